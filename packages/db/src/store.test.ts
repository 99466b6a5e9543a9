import { ConflictError, NotFoundError, type SessionStatus } from '@cks-lab/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LabDatabase, openDatabase } from './open-database';
import { authSessions, users } from './schema';
import type { SqliteStore } from './store';
import { goldenRecord, runRecord, sessionRecord, stepRecord } from './testing/fixtures';

describe('SqliteStore', () => {
  let lab: LabDatabase;
  let store: SqliteStore;

  beforeEach(() => {
    lab = openDatabase(':memory:');
    store = lab.store;
  });
  afterEach(() => lab.close());

  describe('sessions', () => {
    it('inserts within the limit, counting only active statuses', async () => {
      const statuses: SessionStatus[] = ['pending', 'provisioning', 'running', 'terminating', 'terminated', 'failed'];
      for (const [i, status] of statuses.entries()) {
        expect(await store.insertSessionWithinLimit(sessionRecord(`0000000${i}`, { status }), 10)).toBe(true);
      }
      expect(await store.countActiveSessions()).toBe(4);
      expect(await store.insertSessionWithinLimit(sessionRecord('0000000a'), 5)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord('0000000b'), 5)).toBe(false);
      expect(await store.getSession('0000000b')).toBeNull();
      expect(await store.countActiveSessions()).toBe(5);
    });

    it('lets only one of two concurrent inserts over the limit in', async () => {
      await store.insertSessionWithinLimit(sessionRecord('00000001'), 2);
      const results = await Promise.all([
        store.insertSessionWithinLimit(sessionRecord('00000002'), 2),
        store.insertSessionWithinLimit(sessionRecord('00000003'), 2),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.countActiveSessions()).toBe(2);
    });

    it('gets a session, or null', async () => {
      const session = sessionRecord('76c3ac1b', { runId: 'run-1', strategy: 'bootstrap' });
      await store.insertSessionWithinLimit(session, 10);
      expect(await store.getSession('76c3ac1b')).toEqual(session);
      expect(await store.getSession('ffffffff')).toBeNull();
    });

    it('lists newest first, without terminated sessions unless asked', async () => {
      await store.insertSessionWithinLimit(sessionRecord('00000001', { createdAt: 1, status: 'terminated' }), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000002', { createdAt: 2, status: 'failed' }), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000003', { createdAt: 3, status: 'running' }), 10);
      expect((await store.listSessions()).map((s) => s.id)).toEqual(['00000003', '00000002']);
      expect((await store.listSessions({ includeEnded: true })).map((s) => s.id)).toEqual(['00000003', '00000002', '00000001']);
    });

    it('updates and returns the updated session; a missing one is NotFoundError', async () => {
      await store.insertSessionWithinLimit(sessionRecord('00000001'), 10);
      const updated = await store.updateSession('00000001', { status: 'running', updatedAt: 5_000, failureReason: null });
      expect(updated).toEqual(sessionRecord('00000001', { status: 'running', updatedAt: 5_000 }));
      expect(await store.getSession('00000001')).toEqual(updated);
      expect(await store.updateSession('00000001', {})).toEqual(updated);
      await expect(store.updateSession('ffffffff', { status: 'running' })).rejects.toThrow(NotFoundError);
      await expect(store.updateSession('ffffffff', {})).rejects.toThrow(NotFoundError);
    });

    it('finds sessions that can still be ended whose expiry has passed (failed ones: their clean-up is retried), soonest first', async () => {
      const expiring = [
        sessionRecord('00000001', { status: 'running', expiresAt: 200 }),
        sessionRecord('00000002', { status: 'pending', expiresAt: 100 }),
        sessionRecord('00000003', { status: 'provisioning', expiresAt: 300 }),
        sessionRecord('00000004', { status: 'running', expiresAt: 301 }),
        sessionRecord('00000005', { status: 'terminating', expiresAt: 100 }),
        sessionRecord('00000006', { status: 'failed', expiresAt: 150 }),
        sessionRecord('00000007', { status: 'terminated', expiresAt: 100 }),
      ];
      for (const session of expiring) await store.insertSessionWithinLimit(session, 10);
      expect((await store.expiredSessions(300)).map((s) => s.id)).toEqual(['00000002', '00000006', '00000001', '00000003']);
    });
  });

  describe('sessions of accounts', () => {
    beforeEach(() => {
      for (const id of ['alice', 'bob']) {
        lab.db
          .insert(users)
          .values({ id, name: id, email: `${id}@local.invalid`, username: id, createdAt: new Date(1), updatedAt: new Date(1) })
          .run();
      }
    });

    it('holds the per-owner limit next to the global one, counting only active sessions', async () => {
      expect(await store.insertSessionWithinLimit(sessionRecord('00000001', { ownerId: 'alice' }), 10, 1)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord('00000002', { ownerId: 'alice' }), 10, 1)).toBe(false);
      expect(await store.insertSessionWithinLimit(sessionRecord('00000003', { ownerId: 'bob' }), 10, 1)).toBe(true);
      // Sessions without an owner count against each other only when a limit is asked for.
      expect(await store.insertSessionWithinLimit(sessionRecord('00000004'), 10)).toBe(true);
      expect(await store.insertSessionWithinLimit(sessionRecord('00000005'), 10)).toBe(true);
      await store.updateSession('00000001', { status: 'terminated' });
      expect(await store.insertSessionWithinLimit(sessionRecord('00000006', { ownerId: 'alice' }), 10, 1)).toBe(true);
      // The global limit still applies to an owner below their own.
      expect(await store.insertSessionWithinLimit(sessionRecord('00000007', { ownerId: 'bob' }), 4, 3)).toBe(false);
    });

    it('lets only one of two concurrent inserts of one owner in', async () => {
      const results = await Promise.all([
        store.insertSessionWithinLimit(sessionRecord('00000001', { ownerId: 'alice' }), 10, 1),
        store.insertSessionWithinLimit(sessionRecord('00000002', { ownerId: 'alice' }), 10, 1),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('lists one owner’s sessions, and only the active ones when asked', async () => {
      await store.insertSessionWithinLimit(sessionRecord('00000001', { ownerId: 'alice', createdAt: 1, status: 'failed' }), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000002', { ownerId: 'alice', createdAt: 2, status: 'running' }), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000003', { ownerId: 'bob', createdAt: 3 }), 10);
      expect((await store.listSessions({ ownerId: 'alice' })).map((s) => s.id)).toEqual(['00000002', '00000001']);
      expect((await store.listSessions({ ownerId: 'alice', activeOnly: true })).map((s) => s.id)).toEqual(['00000002']);
      expect((await store.listSessions()).map((s) => s.ownerId)).toEqual(['bob', 'alice', 'alice']);
    });

    it('refuses an owner that is not an account', async () => {
      await expect(store.insertSessionWithinLimit(sessionRecord('00000001', { ownerId: 'mallory' }), 10)).rejects.toThrow(/FOREIGN KEY/);
    });
  });

  describe('accounts', () => {
    const add = (id: string, overrides: Partial<typeof users.$inferInsert> = {}) =>
      lab.db
        .insert(users)
        .values({
          id,
          name: id,
          email: `${id}@local.invalid`,
          username: id,
          createdAt: new Date(Number(id.length)),
          updatedAt: new Date(1),
          ...overrides,
        })
        .run();

    it('finds accounts by username, case-insensitively, and lists them with their active sessions', async () => {
      add('alice');
      add('admin1', { role: 'admin' });
      add('oidc-user', { username: null, email: 'carol@example.org' });
      await store.insertSessionWithinLimit(sessionRecord('00000001', { ownerId: 'alice' }), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000002', { ownerId: 'alice', status: 'terminated' }), 10);
      const accounts = lab.accounts;
      expect(await accounts.findByUsername('ALICE')).toMatchObject({ id: 'alice', role: 'learner', disabled: false });
      expect(await accounts.findByUsername('nobody')).toBeNull();
      expect((await accounts.list()).map((a) => [a.id, a.role, a.activeSessions])).toEqual([
        ['alice', 'learner', 1],
        ['admin1', 'admin', 0],
        ['oidc-user', 'learner', 0],
      ]);
      expect(await accounts.displayNames(['alice', 'oidc-user', 'alice'])).toEqual(
        new Map([
          ['alice', 'alice'],
          ['oidc-user', 'carol@example.org'],
        ]),
      );
      expect(await accounts.countAdmins()).toBe(1);
    });

    it('disables an account and removes its sign-ins in one step; enabling keeps them removed', async () => {
      add('alice');
      lab.db
        .insert(authSessions)
        .values({ id: 's1', token: 't1', userId: 'alice', expiresAt: new Date(9e12), createdAt: new Date(1), updatedAt: new Date(1) })
        .run();
      expect(await lab.accounts.setDisabled('alice', true)).toMatchObject({ id: 'alice', disabled: true });
      expect(lab.db.select().from(authSessions).all()).toEqual([]);
      expect(await lab.accounts.setDisabled('alice', false)).toMatchObject({ disabled: false });
      expect(await lab.accounts.setDisabled('nobody', true)).toBeNull();
    });
  });

  describe('runs and steps', () => {
    beforeEach(async () => {
      await store.insertSessionWithinLimit(sessionRecord('00000001'), 10);
      await store.insertSessionWithinLimit(sessionRecord('00000002'), 10);
    });

    it('inserts, gets and updates runs', async () => {
      const run = runRecord('run-1', '00000001', { goldenVersion: 3 });
      await store.insertRun(run);
      expect(await store.getRun('run-1')).toEqual(run);
      expect(await store.getRun('run-x')).toBeNull();
      const updated = await store.updateRun('run-1', {
        usedStrategy: 'bootstrap',
        fallbackReason: 'snapshot-path-failed',
        fallbackDetail: 'clone failed',
      });
      expect(updated).toEqual({
        ...run,
        usedStrategy: 'bootstrap',
        fallbackReason: 'snapshot-path-failed',
        fallbackDetail: 'clone failed',
      });
      await expect(store.updateRun('run-x', { outcome: 'failed' })).rejects.toThrow(NotFoundError);
    });

    it('refuses a run of an unknown session', async () => {
      await expect(store.insertRun(runRecord('run-1', 'ffffffff'))).rejects.toThrow(/FOREIGN KEY/);
    });

    it('lists unfinished runs oldest first and counts those on a golden version', async () => {
      await store.insertRun(runRecord('run-late', '00000001', { startedAt: 20, goldenVersion: 1 }));
      await store.insertRun(runRecord('run-early', '00000002', { startedAt: 10, goldenVersion: 1 }));
      await store.insertRun(runRecord('run-done', '00000001', { startedAt: 5, goldenVersion: 1, outcome: 'succeeded', endedAt: 9 }));
      await store.insertRun(runRecord('run-v2', '00000002', { startedAt: 30, goldenVersion: 2 }));
      expect((await store.unfinishedRuns()).map((r) => r.id)).toEqual(['run-early', 'run-late', 'run-v2']);
      expect(await store.countUnfinishedRunsOnGolden(1)).toBe(2);
      expect(await store.countUnfinishedRunsOnGolden(2)).toBe(1);
      expect(await store.countUnfinishedRunsOnGolden(3)).toBe(0);

      await store.updateRun('run-late', { outcome: 'failed', endedAt: 40 });
      expect(await store.countUnfinishedRunsOnGolden(1)).toBe(1);
    });

    it('records steps in seq order and finishes them by (run, seq)', async () => {
      await store.insertRun(runRecord('run-1', '00000001'));
      await store.startStep(stepRecord('run-1', 2, { name: 'create-vms-from-golden', startedAt: 20 }));
      await store.startStep(stepRecord('run-1', 1, { startedAt: 10 }));
      await store.finishStep('run-1', 1, { endedAt: 15, outcome: 'succeeded', detail: null });
      await store.finishStep('run-1', 2, { endedAt: 30, outcome: 'failed', detail: 'quota exceeded' });
      expect(await store.stepsOfRun('run-1')).toEqual([
        stepRecord('run-1', 1, { startedAt: 10, endedAt: 15, outcome: 'succeeded' }),
        stepRecord('run-1', 2, { name: 'create-vms-from-golden', startedAt: 20, endedAt: 30, outcome: 'failed', detail: 'quota exceeded' }),
      ]);
      expect(await store.stepsOfRun('run-x')).toEqual([]);
      await expect(store.finishStep('run-1', 3, { endedAt: 1, outcome: 'succeeded', detail: null })).rejects.toThrow(NotFoundError);
      await expect(store.startStep(stepRecord('run-1', 1))).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    });

    it("copies a run's start onto its steps, and keeps it equal to the run's", async () => {
      const copies = (runId: string) =>
        lab.db.$client.prepare('SELECT seq, run_started_at FROM steps WHERE run_id = ? ORDER BY seq').all(runId);
      await store.insertRun(runRecord('run-1', '00000001', { startedAt: 100 }));
      await store.insertRun(runRecord('run-2', '00000002', { startedAt: 200 }));
      await store.startStep(stepRecord('run-1', 1, { startedAt: 100 }));
      await store.startStep(stepRecord('run-1', 2, { startedAt: 150 }));
      await store.startStep(stepRecord('run-2', 1, { startedAt: 200 }));
      expect(copies('run-1')).toEqual([
        { seq: 1, run_started_at: 100 },
        { seq: 2, run_started_at: 100 },
      ]);
      expect(copies('run-2')).toEqual([{ seq: 1, run_started_at: 200 }]);

      await store.updateRun('run-1', { startedAt: 90 });
      await store.finishStep('run-1', 1, { endedAt: 120, outcome: 'succeeded', detail: null });
      expect(copies('run-1')).toEqual([
        { seq: 1, run_started_at: 90 },
        { seq: 2, run_started_at: 90 },
      ]);
      expect(copies('run-2')).toEqual([{ seq: 1, run_started_at: 200 }]);
      // The copies stay inside this package.
      expect(await store.stepsOfRun('run-1')).toEqual([
        stepRecord('run-1', 1, { startedAt: 100, endedAt: 120, outcome: 'succeeded' }),
        stepRecord('run-1', 2, { startedAt: 150 }),
      ]);
      await expect(store.startStep(stepRecord('run-x', 1))).rejects.toThrow(/FOREIGN KEY/);
    });
  });

  describe('golden images', () => {
    it('inserts a build and reads it back with its disks', async () => {
      const image = goldenRecord(1);
      await store.insertGoldenBuild(image);
      expect(await store.getGolden(1)).toEqual(image);
      expect(await store.getGolden(2)).toBeNull();
    });

    it('keeps when the certificates on an image were issued, which may be long before it was built', async () => {
      const image = goldenRecord(2, { createdAt: 90 * 86_400_000, certsIssuedAt: 1_000, expiresAt: 1_000 + 334 * 86_400_000 });
      await store.insertGoldenBuild(image);
      expect(await store.getGolden(2)).toMatchObject({
        createdAt: 90 * 86_400_000,
        certsIssuedAt: 1_000,
        expiresAt: 1_000 + 334 * 86_400_000,
      });
    });

    it('lets one build in at a time: a second concurrent one is a ConflictError', async () => {
      await store.insertGoldenBuild(goldenRecord(1));
      const second = store.insertGoldenBuild(goldenRecord(2));
      await expect(second).rejects.toThrow(ConflictError);
      await expect(second).rejects.toThrow('a golden image build is already in progress (v1)');
      expect(await store.getGolden(2)).toBeNull();

      await store.updateGolden(1, { status: 'failed', failureReason: 'snapshot failed' });
      await store.insertGoldenBuild(goldenRecord(2));
      expect((await store.listGolden(['building'])).map((g) => g.version)).toEqual([2]);
    });

    it('refuses a duplicate version with a ConflictError', async () => {
      await store.insertGoldenBuild(goldenRecord(1, { status: 'failed' }));
      await expect(store.insertGoldenBuild(goldenRecord(1))).rejects.toThrow(ConflictError);
    });

    it('activates in one step: the previous ready image becomes superseded', async () => {
      await store.insertGoldenBuild(goldenRecord(1));
      await store.activateGolden(1, 100);
      expect(await store.activeGolden()).toMatchObject({ version: 1, status: 'ready', readyAt: 100 });

      await store.insertGoldenBuild(goldenRecord(2));
      await store.activateGolden(2, 200);
      expect(await store.activeGolden()).toMatchObject({ version: 2, status: 'ready', readyAt: 200, supersededAt: null });
      expect(await store.getGolden(1)).toMatchObject({ status: 'superseded', readyAt: 100, supersededAt: 200 });
      expect(await store.listGolden(['ready'])).toHaveLength(1);
    });

    it('rolls the activation back as a whole when the version is missing', async () => {
      await store.insertGoldenBuild(goldenRecord(1));
      await store.activateGolden(1, 100);
      await expect(store.activateGolden(7, 200)).rejects.toThrow(NotFoundError);
      expect(await store.activeGolden()).toMatchObject({ version: 1, status: 'ready', supersededAt: null });
    });

    it('never has two ready images', async () => {
      await store.insertGoldenBuild(goldenRecord(1));
      await store.activateGolden(1, 100);
      await store.insertGoldenBuild(goldenRecord(2));
      await expect(store.updateGolden(2, { status: 'ready' })).rejects.toThrow(ConflictError);
    });

    it('knows the latest non-deleted version and the next version number', async () => {
      expect(await store.latestGolden()).toBeNull();
      expect(await store.nextGoldenVersion()).toBe(1);
      await store.insertGoldenBuild(goldenRecord(1, { status: 'superseded' }));
      await store.insertGoldenBuild(goldenRecord(2, { status: 'failed' }));
      await store.insertGoldenBuild(goldenRecord(3, { status: 'deleted' }));
      expect((await store.latestGolden())?.version).toBe(2);
      expect(await store.nextGoldenVersion()).toBe(4);
    });

    it('lists by status, newest first, and updates with the result returned', async () => {
      for (const [version, status] of [
        [1, 'superseded'],
        [2, 'deleting'],
        [3, 'ready'],
        [4, 'deleted'],
      ] as const) {
        await store.insertGoldenBuild(goldenRecord(version, { status }));
      }
      expect((await store.listGolden(['superseded', 'deleting'])).map((g) => g.version)).toEqual([2, 1]);
      expect(await store.listGolden([])).toEqual([]);

      const disks = goldenRecord(3).disks.map((disk) => ({ ...disk, volumeSnapshot: `snap-${disk.role}`, sizeBytes: 10 }));
      const updated = await store.updateGolden(3, { phase: 'copy-disks', disks });
      expect(updated).toEqual(goldenRecord(3, { status: 'ready', phase: 'copy-disks', disks }));
      await expect(store.updateGolden(9, { phase: 'done' })).rejects.toThrow(NotFoundError);
    });
  });
});
