import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LabDatabase, MIGRATIONS_FOLDER, openDatabase } from './open-database';
import { runRecord, sessionRecord, stepRecord, tempDir } from './testing/fixtures';

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
    expect(tables).toEqual([
      '__drizzle_migrations',
      'auth_accounts',
      'auth_sessions',
      'auth_verifications',
      'golden_images',
      'runs',
      'sessions',
      'steps',
      'users',
    ]);
    const indexes = db.$client.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL`).all() as Array<{
      name: string;
      sql: string;
    }>;
    expect(indexes.find((index) => index.name === 'golden_images_one_building')?.sql).toMatch(/UNIQUE INDEX.*WHERE status = 'building'/);
    expect(indexes.map((index) => index.name)).toEqual(
      expect.arrayContaining([
        'sessions_created_at_idx',
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
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
    expect(db.$client.prepare('SELECT COUNT(*) FROM __drizzle_migrations').pluck().get()).toBe(journal.entries.length);
  });

  /** A folder with the first `count` committed migrations: a database as an older release left it. */
  function migrationsUpTo(count: number): string {
    const folder = join(dir.path, `migrations-${count}`);
    mkdirSync(join(folder, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
      entries: Array<{ tag: string }>;
    };
    const entries = journal.entries.slice(0, count);
    for (const { tag } of entries) copyFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), join(folder, `${tag}.sql`));
    writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
    return folder;
  }

  /** Inserts a row by column name (for databases of an older schema). */
  const inserter = (lab: LabDatabase) => (table: string, row: Record<string, unknown>) =>
    lab.db.$client
      .prepare(
        `INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row)
          .map((key) => `@${key}`)
          .join(', ')})`,
      )
      .run(row);

  it('upgrades a database written before the metrics migration: each run is copied onto its steps, and seeded rows leave with their marker', async () => {
    const path = join(dir.path, 'lab.db');
    const old = openDatabase(path, { migrationsFolder: migrationsUpTo(1) });
    const insert = inserter(old);
    insert('sessions', {
      id: '0000000a',
      namespace: 'ns',
      status: 'terminated',
      created_at: 1,
      updated_at: 1,
      expires_at: 2,
      synthetic: 0,
    });
    insert('sessions', {
      id: 'syn-0001',
      namespace: 'ns',
      status: 'terminated',
      created_at: 1,
      updated_at: 1,
      expires_at: 2,
      synthetic: 1,
    });
    for (const [id, sessionId, synthetic, startedAt] of [
      ['run-real', '0000000a', 0, 5_000],
      ['syn-run-1', 'syn-0001', 1, 9_000],
    ] as const) {
      insert('runs', {
        id,
        session_id: sessionId,
        requested_strategy: 'snapshot',
        used_strategy: 'snapshot',
        started_at: startedAt,
        ended_at: startedAt + 60_000,
        outcome: 'succeeded',
        synthetic,
      });
      insert('steps', {
        run_id: id,
        seq: 1,
        strategy: 'snapshot',
        name: 'prepare-namespace',
        started_at: startedAt,
        ended_at: startedAt + 2_000,
        outcome: 'succeeded',
      });
    }
    old.close();

    const { db, metrics, store } = open(path);
    expect(db.$client.prepare('SELECT run_id, run_started_at FROM steps ORDER BY run_id').all()).toEqual([
      { run_id: 'run-real', run_started_at: 5_000 },
    ]);
    expect(db.$client.prepare('SELECT id FROM sessions').pluck().all()).toEqual(['0000000a']);
    for (const table of ['sessions', 'runs', 'steps']) {
      expect(db.$client.prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all()).not.toContain('synthetic');
    }
    expect(await store.stepsOfRun('run-real')).toEqual([
      stepRecord('run-real', 1, { startedAt: 5_000, endedAt: 7_000, outcome: 'succeeded' }),
    ]);
    expect(metrics.stepBreakdown()).toEqual([{ strategy: 'snapshot', step: 'prepare-namespace', meanMs: 2_000, count: 1 }]);
    expect(metrics.stepBreakdown({ from: 6_000 })).toEqual([]);
    expect(metrics.summary().strategies[0]).toMatchObject({ runs: 1, p50Ms: 60_000 });
    // And what the store writes from now on gets the copies too.
    await store.insertSessionWithinLimit(sessionRecord('0000000b'), 10);
    await store.insertRun(runRecord('run-new', '0000000b', { startedAt: 20_000 }));
    await store.startStep(stepRecord('run-new', 1, { startedAt: 20_000 }));
    expect(db.$client.prepare(`SELECT run_started_at FROM steps WHERE run_id = 'run-new'`).pluck().get()).toBe(20_000);
    await store.updateRun('run-new', { startedAt: 21_000 });
    expect(db.$client.prepare(`SELECT run_started_at FROM steps WHERE run_id = 'run-new'`).pluck().get()).toBe(21_000);
  });

  it('upgrades golden images written before certificate issue times were recorded: each gets the time of its chain, and its expiry follows', async () => {
    const LIFETIME = 334 * 86_400_000;
    const path = join(dir.path, 'lab.db');
    const old = openDatabase(path, { migrationsFolder: migrationsUpTo(2) });
    const insert = inserter(old);
    const session = (id: string, runId: string) =>
      insert('sessions', {
        id,
        namespace: `user-session-${id}`,
        status: 'running',
        created_at: 1,
        updated_at: 1,
        expires_at: 2,
        run_id: runId,
      });
    const run = (id: string, sessionId: string, requested: string, used: string, goldenVersion: number | null, startedAt: number) =>
      insert('runs', {
        id,
        session_id: sessionId,
        requested_strategy: requested,
        used_strategy: used,
        golden_version: goldenVersion,
        started_at: startedAt,
        ended_at: startedAt + 60_000,
        outcome: 'succeeded',
      });
    const golden = (version: number, sourceSessionId: string, createdAt: number, status: string) =>
      insert('golden_images', {
        version,
        status,
        phase: 'done',
        source_session_id: sourceSessionId,
        k8s_version: 'v1.34.2',
        created_at: createdAt,
        expires_at: createdAt + LIFETIME,
        disks: '[]',
      });
    // v1 from a bootstrapped session; v2 from a session cloned from v1; v3 from a session that
    // pinned v2 but fell back to bootstrap; v4 from a session of which nothing is on record.
    session('0000000a', 'run-a');
    run('run-a', '0000000a', 'bootstrap', 'bootstrap', null, 1_000);
    golden(1, '0000000a', 100_000, 'superseded');
    session('0000000b', 'run-b');
    run('run-b', '0000000b', 'snapshot', 'snapshot', 1, 200_000);
    golden(2, '0000000b', 300_000, 'superseded');
    session('0000000c', 'run-c');
    run('run-c', '0000000c', 'snapshot', 'bootstrap', 2, 400_000);
    golden(3, '0000000c', 500_000, 'superseded');
    golden(4, 'ffffffff', 600_000, 'ready');
    old.close();

    const { db, store } = open(path);
    const issued = await Promise.all(
      [1, 2, 3, 4].map(async (version) => {
        const image = (await store.getGolden(version))!;
        return { version, certsIssuedAt: image.certsIssuedAt, expiresAt: image.expiresAt };
      }),
    );
    expect(issued).toEqual([
      { version: 1, certsIssuedAt: 1_000, expiresAt: 1_000 + LIFETIME },
      { version: 2, certsIssuedAt: 1_000, expiresAt: 1_000 + LIFETIME },
      { version: 3, certsIssuedAt: 400_000, expiresAt: 400_000 + LIFETIME },
      { version: 4, certsIssuedAt: 600_000, expiresAt: 600_000 + LIFETIME },
    ]);
    // The rebuilt table keeps its one-ready and one-building guards.
    expect(
      db.$client.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'golden_images' ORDER BY name`).pluck().all(),
    ).toEqual(['golden_images_one_building', 'golden_images_one_ready']);
    await expect(store.updateGolden(3, { status: 'ready' })).rejects.toThrow(/another image already is/);
  });

  it('upgrades a database written before accounts: its sessions keep going, owned by nobody', async () => {
    const path = join(dir.path, 'lab.db');
    const old = openDatabase(path, { migrationsFolder: migrationsUpTo(3) });
    inserter(old)('sessions', { id: '0000000a', namespace: 'ns', status: 'running', created_at: 1, updated_at: 1, expires_at: 2 });
    old.close();

    const { store, accounts } = open(path);
    expect(await store.getSession('0000000a')).toMatchObject({ status: 'running', ownerId: null });
    expect(await accounts.list()).toEqual([]);
    expect(await store.listSessions({ activeOnly: true })).toHaveLength(1);
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
