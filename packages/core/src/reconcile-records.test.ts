import { describe, expect, it } from 'vitest';
import { OBJECTS_VANISHED, UNRECORDED_GRACE_MS } from './reconcile-records';
import { createTestLab, MemoryStore, seedGolden, type TestLab, until } from './testing';

async function runningSession(h: TestLab): Promise<string> {
  const session = await h.lab.createSession();
  await h.lab.idle();
  return session.id;
}

describe('objects in the cluster with no record', () => {
  it('a lost database: learner namespaces and golden disks are reported at start, removed after the grace period', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const a = await runningSession(h);
    const b = await runningSession(h);
    expect(h.cluster.sessionIds()).toEqual([a, b].sort());

    const fresh = createTestLab({ clock: h.clock, fakeCluster: h.cluster, store: new MemoryStore() });
    await fresh.lab.start();
    await fresh.lab.idle();
    const reported = fresh.logger
      .at('warn')
      .filter((e) => /no record/.test(e.message))
      .map((e) => e.fields.object);
    expect(reported.sort()).toEqual([`golden image v1`, `session ${a}`, `session ${b}`]);
    expect(h.cluster.sessionIds()).toEqual([a, b].sort());
    expect(h.cluster.goldenVersions()).toEqual([1]);

    await h.clock.sleep(UNRECORDED_GRACE_MS);
    await fresh.lab.maintainOnce();
    await fresh.lab.idle();
    expect(h.cluster.sessionIds()).toEqual([]);
    expect(h.cluster.goldenVersions()).toEqual([]);
  });
});

describe('records whose objects vanished', () => {
  it('a restored older database does not rebuild a deleted session: it is marked failed', async () => {
    const h = createTestLab();
    const session = await h.lab.createSession();
    // The backup is taken while the session provisions, after its namespace exists.
    await until(h.clock, async () =>
      (await h.store.stepsOfRun(session.runId!)).some((s) => s.name === 'prepare-namespace' && s.outcome === 'succeeded'),
    );
    const backup = h.store.snapshot();
    await h.lab.deleteSession(session.id);
    await h.lab.idle();
    expect(h.cluster.objectsOf(session.id)).toEqual([]);

    const restored = createTestLab({ clock: h.clock, fakeCluster: h.cluster, store: backup });
    const creates = h.cluster.callsOf('ensureSessionBase').length;
    await restored.lab.start();
    await restored.lab.idle();
    expect(h.cluster.callsOf('ensureSessionBase')).toHaveLength(creates);
    expect(h.cluster.objectsOf(session.id)).toEqual([]);
    const detail = await restored.lab.getSession(session.id);
    expect(detail.session).toMatchObject({ status: 'failed', failureReason: OBJECTS_VANISHED });
    expect(detail.run).toMatchObject({ outcome: 'failed', failureReason: OBJECTS_VANISHED });
  });

  it('a running session and a golden image whose objects were removed behind our back are marked so', async () => {
    const h = createTestLab();
    await h.lab.start();
    const old = await seedGolden(h, { version: 1 });
    const image = await seedGolden(h, { version: 2 });
    expect(old.version).toBe(1);
    const id = await runningSession(h);
    await h.cluster.deleteSession(id, h.clock.now() + 60_000);
    await h.cluster.deleteGoldenVersion(1);
    await h.cluster.deleteGoldenVersion(image.version);

    const report = await h.lab.reconcile();
    expect(report.vanished.sort()).toEqual([`golden image v1`, `golden image v2`, `session ${id}`]);
    expect(await h.store.getSession(id)).toMatchObject({ status: 'failed', failureReason: OBJECTS_VANISHED });
    expect(await h.store.getGolden(2)).toMatchObject({ status: 'failed', failureReason: OBJECTS_VANISHED });
    expect(await h.store.getGolden(1)).toMatchObject({ status: 'deleted' });
    await h.lab.stop();
  });

  it('sessions still provisioning before their namespace and builds before their copies are left alone', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    const pending = await h.lab.createSession();
    const report = await h.lab.reconcile(0);
    expect(report).toEqual({ unrecorded: [], removed: [], vanished: [] });
    await h.lab.createGolden(source);
    expect(await h.lab.reconcile(0)).toEqual({ unrecorded: [], removed: [], vanished: [] });
    await h.lab.idle();
    expect((await h.store.getSession(pending.id))?.status).toBe('running');
  });
});
