import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase, type LabDatabase } from './open-database';
import { sessionRecord, tempDir } from './testing/fixtures';

describe('openDatabase', () => {
  let dir: ReturnType<typeof tempDir>;
  const opened: LabDatabase[] = [];
  const open = (...args: Parameters<typeof openDatabase>) => {
    const lab = openDatabase(...args);
    opened.push(lab);
    return lab;
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    for (const lab of opened.splice(0)) lab.close();
    dir.remove();
  });

  it('applies the committed migrations to a new file, creating its directory', () => {
    const path = join(dir.path, 'nested', 'deeper', 'lab.db');
    const { db } = open(path);
    expect(existsSync(path)).toBe(true);
    const tables = db.$client
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
      .pluck()
      .all();
    expect(tables).toEqual(['__drizzle_migrations', 'golden_images', 'runs', 'sessions', 'steps']);
    const indexes = db.$client.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`).all() as Array<{
      name: string;
      sql: string;
    }>;
    expect(indexes.find((index) => index.name === 'golden_images_one_building')?.sql).toMatch(/UNIQUE INDEX.*WHERE status = 'building'/);
    expect(indexes.map((index) => index.name)).toEqual(
      expect.arrayContaining([
        'runs_synthetic_started_at_idx',
        'runs_used_strategy_outcome_idx',
        'runs_golden_version_outcome_idx',
        'runs_session_id_idx',
      ]),
    );
  });

  it('sets WAL, a busy timeout, foreign keys and NORMAL sync', () => {
    const { db } = open(join(dir.path, 'lab.db'));
    const pragma = (name: string) => db.$client.pragma(name, { simple: true });
    expect(pragma('journal_mode')).toBe('wal');
    expect(pragma('busy_timeout')).toBeGreaterThan(0);
    expect(pragma('foreign_keys')).toBe(1);
    expect(pragma('synchronous')).toBe(1);
  });

  it('keeps the data and applies nothing twice when reopened', async () => {
    const path = join(dir.path, 'lab.db');
    const first = openDatabase(path);
    await first.store.insertSessionWithinLimit(sessionRecord('0000000a'), 10);
    first.close();

    const { store, db } = open(path);
    expect(await store.getSession('0000000a')).not.toBeNull();
    expect(db.$client.prepare('SELECT COUNT(*) FROM __drizzle_migrations').pluck().get()).toBe(1);
  });

  it('accepts file: paths, file:// URLs and :memory:', async () => {
    const viaPrefix = open(`file:${join(dir.path, 'prefixed.db')}`);
    const viaUrl = open(pathToFileURL(join(dir.path, 'url.db')).href);
    const inMemory = open(':memory:');
    for (const { store } of [viaPrefix, viaUrl, inMemory]) expect(await store.countActiveSessions()).toBe(0);
    expect(existsSync(join(dir.path, 'prefixed.db'))).toBe(true);
    expect(existsSync(join(dir.path, 'url.db'))).toBe(true);
  });

  it('takes the migrations from an explicit folder, for bundled apps', () => {
    expect(existsSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'))).toBe(true);
    expect(() => openDatabase(':memory:', { migrationsFolder: join(dir.path, 'missing') })).toThrow();
    const { db } = open(':memory:', { migrationsFolder: MIGRATIONS_FOLDER });
    expect(db.$client.prepare(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'`).pluck().get()).toBe(1);
  });
});
