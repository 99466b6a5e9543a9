import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OBJECTS_VANISHED } from '@cks-lab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime, type Runtime } from '../../apps/web/src/server/runtime';

/**
 * Issue 10: the database and the cluster are reconciled at start. A lost database leaves the
 * learners' namespaces reported and then removed; a restored older database marks a session whose
 * objects are gone failed instead of believing (or rebuilding) it. Real runtime, SQLite, simulator.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function config() {
  const dir = mkdtempSync(join(tmpdir(), 'cks-lab-reconcile-'));
  dirs.push(dir);
  process.env.LOG_LEVEL = 'silent';
  return readServerConfig({ LAB_DATA_DIR: dir, SIM_TIME_SCALE: '0.004', WARM_POOL_SIZE: '0', ADMIN_TOKEN: 'reconcile-admin-token' });
}

const DATABASE_FILES = ['', '-wal', '-shm'];

async function runningSession(runtime: Runtime): Promise<string> {
  const session = await runtime.lab.createSession();
  await runtime.lab.idle();
  expect((await runtime.lab.getSession(session.id)).session.status).toBe('running');
  return session.id;
}

describe('database and cluster reconciled', { timeout: 120_000 }, () => {
  it('a lost database: the live session namespace is reported, then removed', async () => {
    const cfg = config();
    const first = await createRuntime(cfg, { maintenance: false });
    const id = await runningSession(first);
    await first.close();
    for (const suffix of DATABASE_FILES) rmSync(`${cfg.databaseUrl}${suffix}`, { force: true });

    const runtime = await createRuntime(cfg, { maintenance: false });
    try {
      const report = await runtime.lab.reconcile();
      expect(report.unrecorded).toEqual([`session ${id}`]);
      expect(report.removed).toEqual([]);
      expect((await runtime.lab.reconcile(0)).removed).toEqual([`session ${id}`]);
      expect((await runtime.lab.reconcile()).unrecorded).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it('a restored older database: the deleted session is marked failed, not rebuilt', async () => {
    const cfg = config();
    const first = await createRuntime(cfg, { maintenance: false });
    const id = await runningSession(first);
    await first.close();
    for (const suffix of DATABASE_FILES) {
      if (existsSync(`${cfg.databaseUrl}${suffix}`)) copyFileSync(`${cfg.databaseUrl}${suffix}`, `${cfg.databaseUrl}${suffix}.backup`);
    }
    const second = await createRuntime(cfg, { maintenance: false });
    await second.lab.deleteSession(id);
    await second.lab.idle();
    await second.close();
    for (const suffix of DATABASE_FILES) {
      rmSync(`${cfg.databaseUrl}${suffix}`, { force: true });
      if (existsSync(`${cfg.databaseUrl}${suffix}.backup`))
        copyFileSync(`${cfg.databaseUrl}${suffix}.backup`, `${cfg.databaseUrl}${suffix}`);
    }

    const runtime = await createRuntime(cfg, { maintenance: false });
    try {
      await runtime.lab.idle();
      expect((await runtime.lab.getSession(id)).session).toMatchObject({ status: 'failed', failureReason: OBJECTS_VANISHED });
      expect(await runtime.lab.sessionObjects(id)).toEqual([]);
    } finally {
      await runtime.close();
    }
  });
});
