import { errorMessage } from '@cks-lab/core';
import type { KubeObject, ObjectApi, WatchHandle } from './object-api';
import type { ResourceType } from './resources';

export interface InformerOptions<T extends KubeObject> {
  api: ObjectApi;
  type: ResourceType;
  namespace?: string;
  labelSelector?: string;
  /** Called with the full current set after the initial list and after every change. */
  onChange: (objects: ReadonlyMap<string, T>, changed: T | null) => void;
  onError?: (error: unknown) => void;
  /** Delay before a re-list after a watch ends; doubles up to 8x on consecutive failures. */
  retryMs?: number;
}

const key = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * List-then-watch that keeps a local cache and reconnects: client-node 1.x watches neither time out
 * nor reconnect by themselves, and a real server ends them (timeouts, 410 Gone, restarts), so every
 * end of the stream leads to a fresh list and a new watch from its resourceVersion.
 */
export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private handle: WatchHandle | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private failures = 0;

  constructor(private readonly options: InformerOptions<T>) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.handle?.stop();
    this.handle = null;
  }

  get objects(): ReadonlyMap<string, T> {
    return this.cache;
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const { api, type, namespace, labelSelector, onChange } = this.options;
    try {
      const list = await api.list<T>(type, namespace, labelSelector);
      if (this.stopped) return;
      this.cache = new Map(list.items.map((o) => [key(o), o]));
      onChange(this.cache, null);
      const handle = await api.watch<T>(
        type,
        namespace,
        { resourceVersion: list.resourceVersion, labelSelector },
        (event) => {
          if (this.stopped) return;
          this.failures = 0;
          if (event.type === 'DELETED') this.cache.delete(key(event.object));
          else this.cache.set(key(event.object), event.object);
          onChange(this.cache, event.object);
        },
        (error) => this.scheduleRelist(error),
      );
      if (this.stopped) handle.stop();
      else {
        this.handle = handle;
        // A fresh list and watch mean the API answers again: the next interruption starts the backoff anew.
        this.failures = 0;
      }
    } catch (error) {
      this.scheduleRelist(error);
    }
  }

  private scheduleRelist(error?: unknown): void {
    if (this.stopped) return;
    this.handle = null;
    if (error) this.options.onError?.(new Error(`watch ${this.options.type.plural}: ${errorMessage(error)}`));
    const base = this.options.retryMs ?? 200;
    const delay = Math.min(base * 2 ** this.failures, base * 8);
    this.failures += 1;
    this.timer = setTimeout(() => void this.relist(), delay);
  }
}
