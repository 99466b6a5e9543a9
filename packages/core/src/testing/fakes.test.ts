import { describe, expect, it } from 'vitest';
import { ClusterFailure, ConflictError, DeadlineError, NotFoundError, TransientError } from '../errors';
import { names } from '../naming';
import { type GoldenImage, ROLES, type Run, type Session } from '../types';
import { FakeCluster } from './fake-cluster';
import { MemoryStore } from './memory-store';
import { TEST_EPOCH, TestClock } from './test-clock';

const T = TEST_EPOCH;

const session = (id: string, status: Session['status'] = 'running', expiresAt = T + 1000): Session => ({
  id,
  namespace: `user-session-${id}`,
  status,
  createdAt: T,
  updatedAt: T,
  expiresAt,
  strategy: 'bootstrap',
  failureReason: null,
  runId: null,
});

const run = (id: string, goldenVersion: number | null, outcome: Run['outcome'] = 'running'): Run => ({
  id,
  sessionId: '00000001',
  requestedStrategy: 'snapshot',
  usedStrategy: 'snapshot',
  fallbackReason: null,
  fallbackDetail: null,
  goldenVersion,
  startedAt: T,
  endedAt: null,
  outcome,
  failureReason: null,
});

const golden = (version: number, status: GoldenImage['status']): GoldenImage => ({
  version,
  status,
  phase: 'halt-source',
  sourceSessionId: '00000001',
  k8sVersion: 'v1.34.2',
  createdAt: T,
  readyAt: null,
  supersededAt: null,
  certsIssuedAt: T,
  expiresAt: T + 1e9,
  disks: [],
  failureReason: null,
});

describe('MemoryStore', () => {
  it('counts pending, provisioning, running and terminating sessions against the limit', async () => {
    const store = new MemoryStore();
    const statuses: Session['status'][] = ['pending', 'provisioning', 'running', 'terminating', 'terminated', 'failed'];
    for (const [i, status] of statuses.entries()) await store.insertSessionWithinLimit(session(`0000000${i}`, status), 100);
    expect(await store.countActiveSessions()).toBe(4);
    expect(await store.insertSessionWithinLimit(session('0000000a'), 4)).toBe(false);
    expect(await store.getSession('0000000a')).toBeNull();
    expect(await store.insertSessionWithinLimit(session('0000000a'), 5)).toBe(true);
    await expect(store.insertSessionWithinLimit(session('0000000a'), 50)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.listSessions()).map((s) => s.status).sort()).toEqual([
      'pending',
      'provisioning',
      'running',
      'running',
      'terminating',
    ]);
    expect(await store.listSessions({ includeEnded: true })).toHaveLength(7);
  });

  it('lists expired live and failed sessions, not terminating or terminated ones', async () => {
    const store = new MemoryStore();
    await store.insertSessionWithinLimit(session('00000001', 'running', T), 10);
    await store.insertSessionWithinLimit(session('00000002', 'failed', T), 10);
    await store.insertSessionWithinLimit(session('00000003', 'terminating', T), 10);
    await store.insertSessionWithinLimit(session('00000004', 'terminated', T), 10);
    await store.insertSessionWithinLimit(session('00000005', 'running', T + 1), 10);
    expect((await store.expiredSessions(T)).map((s) => s.id)).toEqual(['00000001', '00000002']);
  });

  it('returns copies, never its own objects', async () => {
    const store = new MemoryStore();
    const s = session('00000001');
    await store.insertSessionWithinLimit(s, 10);
    s.status = 'failed';
    const read = (await store.getSession('00000001'))!;
    expect(read.status).toBe('running');
    read.status = 'terminated';
    expect((await store.getSession('00000001'))!.status).toBe('running');
    const updated = await store.updateSession('00000001', { status: 'terminating' });
    updated.status = 'pending';
    expect((await store.getSession('00000001'))!.status).toBe('terminating');
    const image = golden(1, 'building');
    image.disks.push({ role: 'worker', volumeSnapshot: null, pvc: 'p', sizeBytes: null });
    await store.insertGoldenBuild(image);
    image.disks[0]!.pvc = 'changed';
    (await store.getGolden(1))!.disks.pop();
    expect((await store.getGolden(1))!.disks).toEqual([{ role: 'worker', volumeSnapshot: null, pvc: 'p', sizeBytes: null }]);
  });

  it('throws NotFoundError for updates of missing rows', async () => {
    const store = new MemoryStore();
    await expect(store.updateSession('00000001', { status: 'failed' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.updateRun('run-x', { outcome: 'failed' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.updateGolden(3, { status: 'failed' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.activateGolden(3, T)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.finishStep('run-x', 1, { endedAt: T, outcome: 'succeeded', detail: null })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps runs and steps; counts unfinished runs per golden version', async () => {
    const store = new MemoryStore();
    await store.insertRun(run('a', 1));
    await store.insertRun(run('b', 1, 'succeeded'));
    await store.insertRun(run('c', 2));
    await store.insertRun(run('d', null));
    await expect(store.insertRun(run('a', 1))).rejects.toBeInstanceOf(ConflictError);
    expect(await store.countUnfinishedRunsOnGolden(1)).toBe(1);
    expect(await store.countUnfinishedRunsOnGolden(3)).toBe(0);
    expect((await store.unfinishedRuns()).map((r) => r.id).sort()).toEqual(['a', 'c', 'd']);
    const step = {
      runId: 'a',
      seq: 1,
      strategy: 'snapshot',
      name: 'prepare-namespace',
      startedAt: T,
      endedAt: null,
      outcome: 'running',
      detail: null,
    } as const;
    await store.startStep(step);
    await expect(store.startStep(step)).rejects.toBeInstanceOf(ConflictError);
    await store.finishStep('a', 1, { endedAt: T + 5, outcome: 'succeeded', detail: 'ok' });
    expect(await store.stepsOfRun('a')).toEqual([{ ...step, endedAt: T + 5, outcome: 'succeeded', detail: 'ok' }]);
  });

  it('lets one golden build in at a time; activation supersedes the previous ready image', async () => {
    const store = new MemoryStore();
    expect(await store.nextGoldenVersion()).toBe(1);
    await store.insertGoldenBuild(golden(1, 'building'));
    await expect(store.insertGoldenBuild(golden(2, 'building'))).rejects.toBeInstanceOf(ConflictError);
    await store.activateGolden(1, T + 10);
    expect(await store.activeGolden()).toMatchObject({ version: 1, status: 'ready', readyAt: T + 10 });
    await store.insertGoldenBuild(golden(2, 'building'));
    expect((await store.activeGolden())?.version).toBe(1);
    expect((await store.latestGolden())?.version).toBe(2);
    await store.activateGolden(2, T + 20);
    expect(await store.getGolden(1)).toMatchObject({ status: 'superseded', supersededAt: T + 20 });
    expect(await store.activeGolden()).toMatchObject({ version: 2, readyAt: T + 20 });
    await store.activateGolden(2, T + 30); // again (a resumed build): it does not supersede itself
    expect(await store.activeGolden()).toMatchObject({ version: 2 });
    await store.updateGolden(2, { status: 'deleted' });
    expect((await store.latestGolden())?.version).toBe(1);
    expect(await store.activeGolden()).toBeNull();
    expect(await store.nextGoldenVersion()).toBe(3); // versions are never reused
    expect((await store.listGolden(['superseded', 'deleted'])).map((g) => g.version)).toEqual([1, 2]);
  });

  it('snapshot() is an independent copy', async () => {
    const store = new MemoryStore();
    await store.insertSessionWithinLimit(session('00000001'), 10);
    const copy = store.snapshot();
    await store.updateSession('00000001', { status: 'failed' });
    expect((await copy.getSession('00000001'))?.status).toBe('running');
    expect(copy.dump().sessions).toHaveLength(1);
  });
});

describe('TestClock', () => {
  it('jumps to the earliest sleeper when everything waits, waking sleepers in time then call order', async () => {
    const clock = new TestClock();
    const order: string[] = [];
    await Promise.all([
      clock.sleep(300).then(() => order.push(`c@${clock.now() - T}`)),
      clock.sleep(100).then(() => order.push(`a@${clock.now() - T}`)),
      clock.sleep(100).then(() => order.push(`b@${clock.now() - T}`)),
    ]);
    expect(order).toEqual(['a@100', 'b@100', 'c@300']);
  });

  it('rejects an aborted sleep at once and forgets it', async () => {
    const clock = new TestClock();
    const abort = new AbortController();
    const slept = clock.sleep(60_000, abort.signal);
    abort.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pending).toBe(0);
    expect(clock.now()).toBe(T);
  });

  it('advance() jumps at once; without auto-advance time moves only then', async () => {
    const clock = new TestClock({ autoAdvance: false });
    let woke = false;
    void clock.sleep(1000).then(() => (woke = true));
    await clock.flush();
    await clock.flush();
    expect(woke).toBe(false);
    clock.advance(999);
    await clock.flush();
    expect(woke).toBe(false);
    clock.advance(1);
    await clock.flush();
    await clock.flush();
    expect(woke).toBe(true);
    expect(clock.now()).toBe(T + 1000);
  });
});

describe('FakeCluster', () => {
  const ID = '76c3ac1b';

  async function withVms(cluster: FakeCluster, source = { kind: 'base-image' } as const) {
    await cluster.ensureSessionBase(ID);
    for (const role of ROLES) await cluster.ensureVm(ID, role, source);
  }

  it('ends a wait at its deadline with a DeadlineError', async () => {
    const clock = new TestClock();
    const cluster = new FakeCluster(clock);
    await withVms(cluster);
    await expect(cluster.waitVms(ID, ROLES, 'ready', T + 60_000)).rejects.toBeInstanceOf(DeadlineError);
    expect(clock.now()).toBe(T + 60_000);
    await expect(cluster.waitVms(ID, ROLES, 'stopped', T + 70_000)).rejects.toThrow(/deadline passed/);
  });

  it('ends a wait when its signal aborts', async () => {
    const clock = new TestClock();
    const cluster = new FakeCluster(clock);
    await withVms(cluster);
    const abort = new AbortController();
    const waiting = cluster.waitVms(ID, ROLES, 'ready', T + 3_600_000, abort.signal);
    await clock.sleep(1000);
    abort.abort(new Error('deleted'));
    await expect(waiting).rejects.toThrow('deleted');
    expect(clock.now()).toBe(T + 1000);
    expect(clock.pending).toBe(0);
  });

  it('fails the first N calls with TransientError', async () => {
    const cluster = new FakeCluster(new TestClock(), { transientFailures: 2 });
    await expect(cluster.ensureSessionBase(ID)).rejects.toBeInstanceOf(TransientError);
    await expect(cluster.ensureSessionBase(ID)).rejects.toBeInstanceOf(TransientError);
    await expect(cluster.ensureSessionBase(ID)).resolves.toBeUndefined();
    expect(cluster.calls.map((c) => c.error === null)).toEqual([false, false, true]);
  });

  it('refuses a VM in a namespace that does not exist', async () => {
    const cluster = new FakeCluster(new TestClock());
    await expect(cluster.ensureVm(ID, 'worker', { kind: 'base-image' })).rejects.toBeInstanceOf(ClusterFailure);
  });

  it('reports golden copies as Succeeded once copied, and a failed clone of a missing source', async () => {
    const clock = new TestClock();
    const cluster = new FakeCluster(clock);
    await cluster.ensureSessionBase(ID);
    const disk = { role: 'worker' as const, volumeSnapshot: null, pvc: names.goldenCopy('worker', 1), sizeBytes: null };
    await cluster.ensureGoldenCopy(1, disk, names.namespace(ID));
    expect((await cluster.goldenDiskStates(1))[0]).toMatchObject({ phase: 'Failed' }); // no VolumeSnapshot to copy from
    await cluster.ensureVm(ID, 'worker', { kind: 'golden', version: 7, pvc: names.goldenCopy('worker', 7) });
    await expect(cluster.waitVms(ID, ['worker'], 'disk-ready', T + 60_000)).rejects.toThrow(/not found/);

    cluster.seedGoldenVersion(2);
    const states = await cluster.goldenDiskStates(2);
    expect(states.map((s) => [s.role, s.phase])).toEqual([
      ['control-plane', 'Succeeded'],
      ['worker', 'Succeeded'],
    ]);
  });

  it('deleteSession removes everything of the session, its RoleBinding in vm-templates included', async () => {
    const clock = new TestClock();
    const cluster = new FakeCluster(clock);
    await withVms(cluster);
    await cluster.ensureVmSnapshot(ID, 'worker', 1);
    expect(cluster.objectsOf(ID).map((o) => o.kind)).toContain('RoleBinding');
    await cluster.deleteSession(ID, T + 60_000);
    expect(cluster.objectsOf(ID)).toEqual([]);
    expect(cluster.allObjects()).toEqual([]);
  });
});
