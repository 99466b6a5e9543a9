import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LabDatabase, openDatabase } from './open-database';
import type { SqliteStore } from './store';
import { runRecord, sessionRecord } from './testing/fixtures';

describe('SqliteStore: the warm pool', () => {
  let lab: LabDatabase;
  let store: SqliteStore;

  beforeEach(() => {
    lab = openDatabase(':memory:');
    store = lab.store;
  });
  afterEach(() => lab.close());

  async function member(id: string, status: 'running' | 'provisioning', goldenVersion: number, createdAt: number) {
    await store.insertSessionWithinLimit(sessionRecord(id, { status, pool: true, runId: `run-${id}`, createdAt }), 100);
    await store.insertRun(
      runRecord(`run-${id}`, id, { pool: true, goldenVersion, outcome: status === 'running' ? 'succeeded' : 'running' }),
    );
  }
  const warmRun = (id: string) =>
    runRecord(id, '', {
      requestedStrategy: 'warm',
      usedStrategy: 'warm',
      goldenVersion: 2,
      startedAt: 5_000,
      endedAt: 5_010,
      outcome: 'succeeded',
    });

  it('claims the oldest ready member of the golden version, once, with the warm run', async () => {
    await member('00000001', 'running', 1, 1);
    await member('00000002', 'provisioning', 2, 2);
    await member('00000003', 'running', 2, 3);
    await member('00000004', 'running', 2, 4);
    const { sessionId: _, ...run } = warmRun('warm-1');
    const claimed = await store.claimPoolMember({ goldenVersion: 2, ownerId: null, expiresAt: 99_000, run });
    expect(claimed).toMatchObject({ id: '00000003', pool: false, strategy: 'warm', runId: 'warm-1', expiresAt: 99_000, updatedAt: 5_010 });
    expect(await store.getRun('warm-1')).toMatchObject({ sessionId: '00000003', usedStrategy: 'warm', pool: false, endedAt: 5_010 });
    const { sessionId: __, ...second } = warmRun('warm-2');
    expect((await store.claimPoolMember({ goldenVersion: 2, ownerId: null, expiresAt: 99_000, run: second }))?.id).toBe('00000004');
    const { sessionId: ___, ...third } = warmRun('warm-3');
    expect(await store.claimPoolMember({ goldenVersion: 2, ownerId: null, expiresAt: 99_000, run: third })).toBeNull();
    expect(await store.getRun('warm-3')).toBeNull();
  });

  it('retires only unclaimed live members, and those being retired leave room for learners', async () => {
    await member('00000001', 'running', 1, 1);
    await member('00000002', 'running', 1, 2);
    expect(await store.insertSessionWithinLimit(sessionRecord('0000000a'), 2)).toBe(false);
    expect(await store.retirePoolMember('00000001', 10)).toBe(true);
    expect(await store.retirePoolMember('00000001', 11)).toBe(false);
    expect(await store.getSession('00000001')).toMatchObject({ status: 'terminating', updatedAt: 10 });
    expect(await store.insertSessionWithinLimit(sessionRecord('0000000a'), 2)).toBe(true);
    const { sessionId: _, ...run } = warmRun('warm-1');
    await store.claimPoolMember({ goldenVersion: 1, ownerId: null, expiresAt: 99_000, run });
    expect(await store.retirePoolMember('00000002', 12)).toBe(false);
    expect(await store.getSession('00000002')).toMatchObject({ status: 'running' });
  });
});
