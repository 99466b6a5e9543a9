/** In-process change notifications; the web app turns them into SSE subscription events. */
export type LabEvent = { type: 'session'; sessionId: string } | { type: 'golden'; version: number };

export type LabListener = (event: LabEvent) => void;

export class LabEvents {
  private readonly listeners = new Set<LabListener>();

  subscribe(listener: LabListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: LabEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
