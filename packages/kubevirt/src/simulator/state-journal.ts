import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject, WatchEvent } from '../object-api';

/**
 * Persists the simulated cluster as an append-only journal (one JSON line per change), so a killed
 * server finds its cluster as a real one would: appends are cheap and survive kill -9. The journal
 * is compacted to a snapshot of live objects on every load.
 */
export class StateJournal {
  constructor(private readonly path: string) {}

  load(): KubeObject[] {
    const objects = new Map<string, KubeObject>();
    if (existsSync(this.path)) {
      for (const line of readFileSync(this.path, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        let entry: { t: WatchEvent['type']; o: KubeObject };
        try {
          entry = JSON.parse(line);
        } catch {
          continue; // a line torn by a kill mid-write: the objects before it are intact
        }
        const key = `${entry.o.apiVersion}/${entry.o.kind}/${entry.o.metadata.namespace ?? ''}/${entry.o.metadata.name}`;
        if (entry.t === 'DELETED') objects.delete(key);
        else objects.set(key, entry.o);
      }
    }
    this.compact([...objects.values()]);
    return [...objects.values()];
  }

  record(event: WatchEvent): void {
    appendFileSync(this.path, `${JSON.stringify({ t: event.type, o: event.object })}\n`);
  }

  private compact(objects: KubeObject[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, objects.map((o) => `${JSON.stringify({ t: 'ADDED', o })}\n`).join(''));
    renameSync(tmp, this.path);
  }
}
