import { describe, expect, it } from 'vitest';
import { ClusterFailure, LimitError, NotFoundError, PreconditionError, ValidationError } from './errors';
import type { LabEvent } from './events';
import { createTestLab, type FakeCall, seedGolden, type TestLab, until } from './testing';

const S = 1000;
const MIN = 60 * S;

async function running(h: TestLab): Promise<string> {
  const session = await h.lab.createSession();
  await h.lab.idle();
  return session.id;
}

const status = async (h: TestLab, id: string) => (await h.store.getSession(id))?.status;

describe('creating sessions', () => {
  it('returns a pending session with its namespace, expiry and chosen strategy, and announces it', async () => {
    const h = createTestLab();
    const events: LabEvent[] = [];
    h.lab.events.subscribe((e) => events.push(e));
    const t0 = h.clock.now();
    const session = await h.lab.createSession();
    expect(session).toMatchObject({
      status: 'pending',
      namespace: `user-session-${session.id}`,
      strategy: 'bootstrap',
      createdAt: t0,
      expiresAt: t0 + 60 * MIN,
      failureReason: null,
    });
    expect(session.id).toMatch(/^[0-9a-f]{8}$/);
    await h.lab.idle();
    const detail = await h.lab.getSession(session.id);
    expect(detail.session.status).toBe('running');
    expect(detail.steps).toHaveLength(5);
    expect(detail.timeToReadyMs).toBe(470 * S);
    expect(events.length).toBeGreaterThan(5);
    expect(events.every((e) => e.type === 'session' && e.sessionId === session.id)).toBe(true);
    // Objects are read from the cluster.
    expect((await h.lab.sessionObjects(session.id)).map((o) => o.kind)).toContain('VirtualMachine');
    expect((await h.lab.sessionObjects(session.id)).find((o) => o.kind === 'VirtualMachine')?.phase).toBe('Ready');
    expect(h.lab.mode).toBe('simulated');
  });

  it('refuses a session over the concurrency limit with a LimitError and creates nothing for it', async () => {
    const h = createTestLab({ config: { maxConcurrentSessions: 2 } });
    const a = await h.lab.createSession();
    const b = await h.lab.createSession();
    await expect(h.lab.createSession()).rejects.toBeInstanceOf(LimitError);
    await expect(h.lab.createSession()).rejects.toThrow(/limit of 2 concurrent sessions/);
    await h.lab.idle();
    const dump = h.store.dump();
    expect(dump.sessions.map((s) => s.id)).toEqual([a.id, b.id]);
    expect(dump.runs).toHaveLength(2);
    expect(h.cluster.sessionIds()).toEqual([a.id, b.id].sort());

    // An ended session frees its place.
    await h.lab.deleteSession(a.id);
    await h.lab.idle();
    await expect(h.lab.createSession()).resolves.toMatchObject({ status: 'pending' });
    await h.lab.idle();
  });

  it('enforces the limit under concurrent creation', async () => {
    const h = createTestLab({ config: { maxConcurrentSessions: 3 } });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => h.lab.createSession()));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LimitError)).toHaveLength(3);
    await h.lab.idle();
    expect(await h.store.countActiveSessions()).toBe(3);
    expect(h.cluster.sessionIds()).toHaveLength(3);
  });
});

describe('deleting sessions', () => {
  it('terminates a running session and leaves nothing in the cluster', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const id = await running(h);
    const terminating = await h.lab.deleteSession(id);
    expect(terminating.status).toBe('terminating');
    await h.lab.idle();
    expect(await status(h, id)).toBe('terminated');
    expect(h.cluster.objectsOf(id)).toEqual([]);
    expect(await h.lab.sessionObjects(id)).toEqual([]);
    expect((await h.lab.getSession(id)).run?.outcome).toBe('succeeded');
    expect(h.cluster.goldenVersions()).toEqual([1]); // the golden image is not the session's
    expect(await h.lab.listSessions()).toEqual([]);
    expect((await h.lab.listSessions({ includeEnded: true })).map((s) => s.id)).toEqual([id]);
    // Deleting again is harmless.
    await expect(h.lab.deleteSession(id)).resolves.toMatchObject({ status: 'terminated' });
  });

  it('aborts provisioning promptly (a stuck clone is not waited out) and leaves nothing', async () => {
    const h = createTestLab({ cluster: { stuckClone: true } });
    await seedGolden(h);
    const session = await h.lab.createSession();
    await h.clock.sleep(30 * S);
    const t = h.clock.now();
    await h.lab.deleteSession(session.id);
    await h.lab.idle();

    expect(h.clock.now() - t).toBe(10 * S); // just the namespace deletion, not the 15-minute clone deadline
    expect(await status(h, session.id)).toBe('terminated');
    const detail = await h.lab.getSession(session.id);
    expect(detail.run).toMatchObject({ outcome: 'cancelled', failureReason: 'session deleted during provisioning', fallbackReason: null });
    expect(detail.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
      'prepare-namespace:succeeded',
      'create-vms-from-golden:succeeded',
      'wait-disks-cloned:failed',
    ]);
    expect(detail.steps.some((s) => s.strategy === 'bootstrap')).toBe(false); // no fallback for a deleted session
    expect(h.cluster.objectsOf(session.id)).toEqual([]);
    expect(h.clock.pending).toBe(0); // the wait let go of its timer
  });

  it('aborts a bootstrap in its control-plane wait as well', async () => {
    const h = createTestLab();
    const session = await h.lab.createSession();
    await h.clock.sleep(100 * S);
    const t = h.clock.now();
    await h.lab.deleteSession(session.id);
    await h.lab.idle();
    expect(h.clock.now() - t).toBe(10 * S); // not the remaining 225 s of kubeadm
    const detail = await h.lab.getSession(session.id);
    expect(detail.session.status).toBe('terminated');
    expect(detail.run?.failureReason).toBe('session deleted during provisioning');
    expect(h.cluster.callsOf('ensureVm').map((c) => c.args[1])).toEqual(['control-plane']);
    expect(h.cluster.allObjects()).toEqual([]);
  });

  it('a deletion interrupted by a crash is finished on restart', async () => {
    const h = createTestLab();
    const id = await running(h);
    let died!: (call: FakeCall) => void;
    const crashed = new Promise<FakeCall>((resolve) => (died = resolve));
    h.cluster.freezeWhen = (call) => {
      if (call.op === 'deleteSession') died(call);
      return call.op === 'deleteSession';
    };
    await h.lab.deleteSession(id);
    await crashed;
    h.cluster.freezeWhen = null;
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect((await restarted.store.getSession(id))?.status).toBe('terminated');
    expect(h.cluster.objectsOf(id)).toEqual([]);
  });

  it('retries a deletion through transient API errors', async () => {
    const h = createTestLab();
    const id = await running(h);
    h.cluster.transientFailures = 3;
    await h.lab.deleteSession(id);
    await h.lab.idle();
    expect(await status(h, id)).toBe('terminated');
    expect(h.cluster.objectsOf(id)).toEqual([]);
  });
});

describe('expiry', () => {
  it('extends by one TTL, at most three TTLs ahead, and not for ended sessions', async () => {
    const h = createTestLab();
    const t0 = h.clock.now();
    const id = await running(h);
    expect((await h.lab.extendSession(id)).expiresAt).toBe(t0 + 120 * MIN);
    expect((await h.lab.extendSession(id)).expiresAt).toBe(Math.min(t0 + 180 * MIN, h.clock.now() + 180 * MIN));
    const capped = (await h.lab.extendSession(id)).expiresAt;
    expect(capped).toBe(h.clock.now() + 180 * MIN);
    await expect(h.lab.extendSession(id)).rejects.toThrow(/limit of 180 min ahead; it can be extended again in 1 min/);
    await h.lab.deleteSession(id);
    await h.lab.idle();
    await expect(h.lab.extendSession(id)).rejects.toBeInstanceOf(PreconditionError);
  });

  it('the reaper deletes expired sessions, and only those', async () => {
    const h = createTestLab();
    const old = await running(h);
    await h.clock.sleep(30 * MIN);
    const young = await running(h);
    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(await status(h, old)).toBe('running');

    h.clock.advance(30 * MIN); // the old one is now past its hour
    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(await status(h, old)).toBe('terminated');
    expect(await status(h, young)).toBe('running');
    expect(h.cluster.objectsOf(old)).toEqual([]);
    expect(h.cluster.objectsOf(young)).not.toEqual([]);
  });

  it('the maintenance loop reaps on its own and stops cleanly', async () => {
    const h = createTestLab();
    await h.lab.start({ maintenanceIntervalMs: MIN });
    const t0 = h.clock.now();
    const session = await h.lab.createSession();
    await until(h.clock, async () => (await status(h, session.id)) === 'terminated', { timeoutMs: 3 * 60 * MIN });
    const endedAt = h.clock.now() - t0;
    expect(endedAt).toBeGreaterThanOrEqual(60 * MIN);
    expect(endedAt).toBeLessThanOrEqual(60 * MIN + MIN + 10 * S + 1 * S);
    await h.lab.stop();
    expect(h.cluster.allObjects()).toEqual([]);
  });

  it('an extended session outlives its first expiry', async () => {
    const h = createTestLab();
    const id = await running(h);
    await h.lab.extendSession(id);
    h.clock.advance(90 * MIN);
    await h.lab.maintainOnce();
    expect(await status(h, id)).toBe('running');
  });

  it('a failed session whose cleanup was incomplete is cleaned up by the reaper at expiry', async () => {
    const h = createTestLab({ cluster: { failBootstrap: true } });
    h.cluster.failWhen = (call) => (call.op === 'deleteSession' ? new ClusterFailure('namespace stuck terminating') : null);
    const session = await h.lab.createSession();
    await h.lab.idle();
    expect(await status(h, session.id)).toBe('failed');
    expect(h.cluster.objectsOf(session.id)).not.toEqual([]); // the leak the reaper must fix
    h.cluster.failWhen = null;
    h.clock.advance(61 * MIN);
    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(await status(h, session.id)).toBe('terminated');
    expect(h.cluster.objectsOf(session.id)).toEqual([]);
  });
});

describe('bad input gets a clear error and changes nothing', () => {
  it.each(['76C3AC1B', '76c3ac1', 'user-session-76c3ac1b', '', '../x'])('malformed id %j → ValidationError', async (id) => {
    const h = createTestLab();
    await expect(h.lab.getSession(id)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.lab.deleteSession(id)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.lab.extendSession(id)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.lab.sessionObjects(id)).rejects.toBeInstanceOf(ValidationError);
    await expect(h.lab.createGolden(id)).rejects.toBeInstanceOf(ValidationError);
    expect(h.store.dump()).toEqual({ sessions: [], runs: [], steps: [], golden: [] });
    expect(h.cluster.calls).toEqual([]);
  });

  it('unknown id → NotFoundError', async () => {
    const h = createTestLab();
    const id = await running(h);
    const before = h.store.dump();
    const callsBefore = h.cluster.calls.length;
    const unknown = 'deadbeef';
    await expect(h.lab.getSession(unknown)).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.lab.deleteSession(unknown)).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.lab.extendSession(unknown)).rejects.toThrow(/session deadbeef does not exist/);
    await expect(h.lab.sessionObjects(unknown)).rejects.toBeInstanceOf(NotFoundError);
    expect(h.store.dump()).toEqual(before);
    expect(h.cluster.calls.length).toBe(callsBefore);
    expect(await status(h, id)).toBe('running');
  });
});

describe('golden status view', () => {
  it('explains why bootstrap is used when the cluster lacks snapshots', async () => {
    const h = createTestLab({ cluster: { snapshotSupported: false } });
    await seedGolden(h);
    const view = await h.lab.goldenStatus();
    expect(view).toMatchObject({ status: 'ready', activeStrategy: 'bootstrap', reason: 'snapshot-unsupported' });
    expect(view.reasonDetail).toMatch(/VolumeSnapshotClass/);
    const session = await h.lab.createSession();
    expect(session.strategy).toBe('bootstrap');
    await h.lab.idle();
    expect((await h.lab.getSession(session.id)).run?.fallbackReason).toBe('snapshot-unsupported');
  });

  it('reports expired and mismatched images as reasons to bootstrap', async () => {
    const h = createTestLab();
    await seedGolden(h, { expiresAt: h.clock.now() + MIN });
    expect((await h.lab.goldenStatus()).activeStrategy).toBe('snapshot');
    h.clock.advance(MIN);
    expect(await h.lab.goldenStatus()).toMatchObject({ activeStrategy: 'bootstrap', reason: 'golden-expired' });

    const other = createTestLab();
    await seedGolden(other, { k8sVersion: 'v1.30.0' });
    expect(await other.lab.goldenStatus()).toMatchObject({ activeStrategy: 'bootstrap', reason: 'version-mismatch' });
  });

  it('records a failed build as the reason of the sessions after it', async () => {
    const h = createTestLab();
    await seedGolden(h, { status: 'failed', failureReason: 'worker snapshot is partial' });
    expect(await h.lab.goldenStatus()).toMatchObject({ status: 'failed', reason: 'golden-build-failed' });
    const id = await running(h);
    expect((await h.lab.getSession(id)).run).toMatchObject({
      fallbackReason: 'golden-build-failed',
      fallbackDetail: 'the build of golden image v1 failed: worker snapshot is partial',
    });
  });

  it('says a deleted image was deleted, not that none was built', async () => {
    const h = createTestLab();
    await seedGolden(h);
    await h.lab.deleteGolden();
    await h.lab.idle();
    const view = await h.lab.goldenStatus();
    expect(view).toMatchObject({ status: 'none', image: null, deleted: { version: 1, status: 'deleted' }, reason: 'no-golden-image' });
    expect(view.reasonDetail).toBe('golden image v1 was deleted');
  });
});
