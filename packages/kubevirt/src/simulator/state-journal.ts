import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '@cks-lab/core';
import type { KubeObject, WatchEvent } from '../object-api';

export interface StateJournalOptions {
  logger?: Logger;
  /** Compact once the journal is this many times the size of the live objects… */
  compactFactor?: number;
  /** …and at least this big: rewriting a small journal often would cost more than it saves. */
  minCompactBytes?: number;
}

type Entry = { t: WatchEvent['type']; o: KubeObject };

/**
 * Persists the simulated cluster as an append-only journal (one JSON line per change), so a killed
 * server finds its cluster as a real one would: appends are cheap and survive kill -9. The journal
 * is compacted to a snapshot of the live objects on load and, while running, whenever it has grown
 * to `compactFactor` times their size; compaction writes a temporary file and renames it over the
 * journal, so a kill at any moment leaves the old journal or the new one, never half of one.
 * A line that cannot be read (torn by a kill mid-write, or damaged) is logged and appended to
 * `<journal>.corrupt`, never dropped unseen.
 */
export class StateJournal {
  /** Each live object's line as compaction writes it, by object key. */
  private readonly live = new Map<string, string>();
  private liveBytes = 0;
  private journalBytes = 0;
  /** After a failed compaction, the journal size at which the next attempt is made. */
  private retryAtBytes = 0;
  private readonly logger: Logger | undefined;
  private readonly compactFactor: number;
  private readonly minCompactBytes: number;

  constructor(
    private readonly path: string,
    options: StateJournalOptions = {},
  ) {
    this.logger = options.logger;
    this.compactFactor = options.compactFactor ?? 4;
    this.minCompactBytes = options.minCompactBytes ?? 1024 * 1024;
  }

  get corruptPath(): string {
    return `${this.path}.corrupt`;
  }

  load(): KubeObject[] {
    const objects = new Map<string, KubeObject>();
    const corrupt: string[] = [];
    const text = existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const entry = parseEntry(line);
      if (!entry) corrupt.push(line);
      else if (entry.t === 'DELETED') objects.delete(keyOf(entry.o));
      else objects.set(keyOf(entry.o), entry.o);
    }
    if (corrupt.length > 0) this.setAside(corrupt);
    this.live.clear();
    this.liveBytes = 0;
    for (const [key, object] of objects) this.remember(key, JSON.stringify(object));
    this.journalBytes = Buffer.byteLength(text);
    // Not compacted: end a torn last line, or the next change would be appended to it and lost with it.
    if (!this.tryCompact() && text.length > 0 && !text.endsWith('\n')) appendFileSync(this.path, '\n');
    return [...objects.values()];
  }

  record(event: WatchEvent): void {
    const json = JSON.stringify(event.object);
    const line = `{"t":${JSON.stringify(event.type)},"o":${json}}\n`;
    appendFileSync(this.path, line);
    this.journalBytes += Buffer.byteLength(line);
    const key = keyOf(event.object);
    if (event.type === 'DELETED') this.forget(key);
    else this.remember(key, json);
    if (this.journalBytes >= Math.max(this.minCompactBytes, this.compactFactor * this.liveBytes, this.retryAtBytes)) this.tryCompact();
  }

  /** A failed compaction loses nothing (the appended journal is whole): log it, retry once the journal has grown as much again. */
  private tryCompact(): boolean {
    try {
      this.compact();
      return true;
    } catch (error) {
      this.retryAtBytes = this.journalBytes + this.minCompactBytes;
      this.logger?.warn(
        { journal: this.path, error: error instanceof Error ? error.message : String(error) },
        'simulator journal not compacted; will retry',
      );
      return false;
    }
  }

  private remember(key: string, json: string): void {
    this.forget(key);
    const line = `{"t":"ADDED","o":${json}}\n`;
    this.live.set(key, line);
    this.liveBytes += Buffer.byteLength(line);
  }

  private forget(key: string): void {
    const line = this.live.get(key);
    if (line === undefined) return;
    this.live.delete(key);
    this.liveBytes -= Buffer.byteLength(line);
  }

  private compact(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      try {
        writeFileSync(fd, [...this.live.values()].join(''));
        // On disk before the rename, or a crash could leave the journal's name on an empty file.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (error) {
      rmSync(tmp, { force: true });
      throw error;
    }
    this.journalBytes = this.liveBytes;
    this.retryAtBytes = 0;
  }

  private setAside(lines: string[]): void {
    appendFileSync(this.corruptPath, lines.map((line) => `${line}\n`).join(''));
    this.logger?.warn(
      { journal: this.path, lines: lines.length, keptIn: this.corruptPath },
      'simulator journal lines could not be read (torn by a kill, or damaged); the changes they held are not applied',
    );
  }
}

function parseEntry(line: string): Entry | null {
  try {
    const entry = JSON.parse(line) as Partial<Entry> | null;
    const object = entry?.o;
    if (typeof entry?.t !== 'string' || typeof object?.kind !== 'string' || typeof object.apiVersion !== 'string') return null;
    if (typeof object.metadata?.name !== 'string') return null;
    return entry as Entry;
  } catch {
    return null;
  }
}

function keyOf(object: KubeObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
