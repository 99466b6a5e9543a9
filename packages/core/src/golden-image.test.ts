import { describe, expect, it } from 'vitest';
import { ClusterFailure, ConflictError, NotFoundError, PreconditionError, ValidationError } from './errors';
import { collectGoldenGarbage, executeGoldenBuild, startGoldenBuild } from './golden-image';
import { names } from './naming';
import { createTestLab, type FakeCall, latch, type TestLab, until } from './testing';
import { type GoldenImage, ROLES } from './types';

const S = 1000;
const BUILD_MS = (15 + 30 + 65 + 20) * S; // halt, snapshot, restart (start 20 + boot 45), copy

async function runningSession(h: TestLab): Promise<string> {
  const session = await h.lab.createSession();
  await h.lab.idle();
  expect((await h.store.getSession(session.id))?.status).toBe('running');
  return session.id;
}

async function build(h: TestLab, sessionId: string, replace = false): Promise<GoldenImage> {
  const image = await h.lab.createGolden(sessionId, replace);
  await h.lab.idle();
  return (await h.store.getGolden(image.version))!;
}

/** Records the build's phase changes and activation, in order. */
function recordPhases(h: TestLab): string[] {
  const seen: string[] = [];
  const update = h.store.updateGolden.bind(h.store);
  const activate = h.store.activateGolden.bind(h.store);
  h.store.updateGolden = async (version, patch) => {
    if (patch.phase) seen.push(`v${version}:${patch.phase}`);
    if (patch.status) seen.push(`v${version}:status=${patch.status}`);
    return update(version, patch);
  };
  h.store.activateGolden = async (version, readyAt) => {
    seen.push(`v${version}:activate`);
    return activate(version, readyAt);
  };
  return seen;
}

const snapshotObjects = (h: TestLab, sessionId: string) =>
  h.cluster.objectsOf(sessionId).filter((o) => o.kind === 'VirtualMachineSnapshot' || o.kind === 'VolumeSnapshot');

const ofVersion = (h: TestLab, version: number) => h.cluster.allObjects().filter((o) => o.goldenVersion === version);

function crashAt(h: TestLab, match: (call: FakeCall) => boolean): Promise<void> {
  return new Promise((resolve) => {
    h.cluster.freezeWhen = (call) => {
      const hit = match(call);
      if (hit) resolve();
      return hit;
    };
  });
}

describe('golden image build', () => {
  it('runs the phases in order, leaves the source session running and the new image active', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    const phases = recordPhases(h);
    const callsBefore = h.cluster.calls.length;
    const t0 = h.clock.now();

    const started = await h.lab.createGolden(source);
    expect(started).toMatchObject({ version: 1, status: 'building', phase: 'halt-source', sourceSessionId: source });
    expect(started.disks.map((d) => d.pvc)).toEqual(['cks-control-plane-golden-v1', 'cks-worker-golden-v1']);
    await h.lab.idle();

    expect(phases).toEqual([
      'v1:snapshot-vms',
      'v1:restart-source',
      'v1:copy-disks',
      'v1:switch-datasources',
      'v1:activate',
      'v1:remove-session-snapshots',
      'v1:done',
    ]);
    const ops = h.cluster.calls
      .slice(callsBefore)
      .filter((c) => c.op !== 'preflight' && c.op !== 'goldenDiskStates')
      .map((c) =>
        c.op === 'setRunStrategy' ? `${c.op}:${String(c.args[2])}` : c.op === 'waitVms' ? `${c.op}:${String(c.args[2])}` : c.op,
      );
    expect(ops).toEqual([
      'setRunStrategy:Halted',
      'waitVms:stopped',
      'ensureVmSnapshot',
      'ensureVmSnapshot',
      'waitVmSnapshot',
      'waitVmSnapshot',
      'setRunStrategy:Always',
      'waitVms:ready',
      'ensureGoldenCopy',
      'ensureGoldenCopy',
      'waitGoldenCopies',
      'pointGoldenDataSources',
      'deleteVmSnapshots',
    ]);
    // Each copy is made from the VolumeSnapshot of the right VM, in the source namespace.
    for (const call of h.cluster.callsOf('ensureGoldenCopy')) {
      const disk = call.args[1] as GoldenImage['disks'][number];
      expect(disk.volumeSnapshot).toBe(`${names.goldenSnapshot(disk.role, 1)}-rootdisk`);
      expect(call.args[2]).toBe(names.namespace(source));
    }

    const image = (await h.store.getGolden(1))!;
    expect(image).toMatchObject({ status: 'ready', phase: 'done', readyAt: t0 + BUILD_MS, failureReason: null });
    expect(image.disks.every((d) => d.volumeSnapshot && d.sizeBytes && d.sizeBytes > 0)).toBe(true);
    expect(await h.store.activeGolden()).toMatchObject({ version: 1 });

    // The source session continues: both VMs run again and it is still a running session.
    for (const role of ROLES) expect(h.cluster.vm(source, role)?.runStrategy).toBe('Always');
    await expect(h.cluster.waitVms(source, ROLES, 'ready', h.clock.now())).resolves.toBeUndefined();
    expect((await h.store.getSession(source))?.status).toBe('running');
    expect(snapshotObjects(h, source)).toEqual([]);

    expect(h.cluster.goldenVersions()).toEqual([1]);
    expect(h.cluster.dataSourceTarget()).toBe(1);
    expect((await h.cluster.goldenDiskStates(1)).map((d) => d.phase)).toEqual(['Succeeded', 'Succeeded']);

    const status = await h.lab.goldenStatus();
    expect(status).toMatchObject({ status: 'ready', activeStrategy: 'snapshot', reason: null });
    expect(status.image?.version).toBe(1);

    // New sessions now use it.
    const next = await h.lab.createSession();
    await h.lab.idle();
    const detail = await h.lab.getSession(next.id);
    expect(detail.run).toMatchObject({ usedStrategy: 'snapshot', goldenVersion: 1, outcome: 'succeeded' });
    expect(detail.timeToReadyMs).toBe(70 * S);
  });

  it('a partial snapshot fails the build: source restarted, nothing of that version left, the previous image kept', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    await build(h, source);
    h.cluster.partialSnapshot = true;

    const failed = await build(h, source, true);
    expect(failed).toMatchObject({ version: 2, status: 'failed' });
    expect(failed.failureReason).toMatch(/^snapshot-vms: .*excluded volumes/);

    for (const role of ROLES) expect(h.cluster.vm(source, role)?.runStrategy).toBe('Always');
    await expect(h.cluster.waitVms(source, ROLES, 'ready', h.clock.now() + 10 * 60 * S)).resolves.toBeUndefined();
    expect((await h.store.getSession(source))?.status).toBe('running');
    expect(ofVersion(h, 2)).toEqual([]);
    expect(snapshotObjects(h, source)).toEqual([]);
    expect(h.cluster.goldenVersions()).toEqual([1]);
    expect(h.cluster.dataSourceTarget()).toBe(1);
    expect(await h.store.activeGolden()).toMatchObject({ version: 1, status: 'ready' });

    const status = await h.lab.goldenStatus();
    expect(status).toMatchObject({ status: 'ready', activeStrategy: 'snapshot' });
  });

  it('a failed first build leaves no golden image: sessions keep bootstrapping', async () => {
    const h = createTestLab({ cluster: { partialSnapshot: true } });
    const source = await runningSession(h);
    const failed = await build(h, source);
    expect(failed.status).toBe('failed');
    expect(h.cluster.goldenObjects()).toEqual([]);
    const status = await h.lab.goldenStatus();
    expect(status).toMatchObject({ status: 'failed', activeStrategy: 'bootstrap', reason: 'golden-build-failed' });
    expect(status.image?.version).toBe(1);
  });

  it('a failed copy into vm-templates fails the build and removes the copies', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    h.cluster.failWhen = (call) => (call.op === 'waitGoldenCopies' ? new ClusterFailure('DataVolume clone failed: out of space') : null);
    const failed = await build(h, source);
    expect(failed).toMatchObject({ status: 'failed', failureReason: 'copy-disks: DataVolume clone failed: out of space' });
    expect(ofVersion(h, 1)).toEqual([]);
    expect(h.cluster.dataSourceTarget()).toBeNull();
  });

  it('survives transient API errors during the build', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    h.cluster.transientFailures = 5;
    const image = await build(h, source);
    expect(image).toMatchObject({ status: 'ready', phase: 'done' });
    expect(h.cluster.transientFailures).toBe(0);
  });
});

describe('conflicts and bad input change nothing', () => {
  it('two concurrent creates: one wins, the other gets a ConflictError', async () => {
    const h = createTestLab();
    const a = await runningSession(h);
    const b = await runningSession(h);
    const results = await Promise.allSettled([h.lab.createGolden(a), h.lab.createGolden(b)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
    expect(String(lost[0]!.reason.message)).toMatch(/being built/);
    await h.lab.idle();
    expect((await h.store.dump()).golden).toHaveLength(1);
    expect(await h.store.activeGolden()).toMatchObject({ version: 1, status: 'ready' });
  });

  it('a create or recreate while a build runs is refused, and touches neither session', async () => {
    const h = createTestLab();
    const a = await runningSession(h);
    const b = await runningSession(h);
    await h.lab.createGolden(a);
    await expect(h.lab.createGolden(b)).rejects.toBeInstanceOf(ConflictError);
    await expect(h.lab.createGolden(b, true)).rejects.toBeInstanceOf(ConflictError);
    await h.lab.idle();
    expect(h.cluster.calls.filter((c) => c.op === 'setRunStrategy' && c.args[0] === b)).toEqual([]);
    expect(await h.store.listGolden(['building', 'ready', 'failed'])).toHaveLength(1);
  });

  it('create while an image exists needs recreate', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    await build(h, source);
    const before = h.store.dump();
    await expect(h.lab.createGolden(source)).rejects.toThrow(ConflictError);
    await expect(h.lab.createGolden(source)).rejects.toThrow(/v1 already exists; use recreate/);
    expect(h.store.dump()).toEqual(before);
    const replaced = await build(h, source, true);
    expect(replaced).toMatchObject({ version: 2, status: 'ready' });
  });

  it('refuses unknown, malformed and non-running sessions, and the deletion of a build source', async () => {
    const h = createTestLab();
    await expect(h.lab.createGolden('deadbeef')).rejects.toBeInstanceOf(NotFoundError);
    await expect(h.lab.createGolden('DEADBEEF')).rejects.toBeInstanceOf(ValidationError);
    await expect(h.lab.createGolden('user-session-76c3ac1b')).rejects.toBeInstanceOf(ValidationError);
    const provisioning = await h.lab.createSession();
    await expect(h.lab.createGolden(provisioning.id)).rejects.toBeInstanceOf(PreconditionError);
    await h.lab.idle();
    expect(h.store.dump().golden).toEqual([]);

    await h.lab.createGolden(provisioning.id);
    await expect(h.lab.deleteSession(provisioning.id)).rejects.toBeInstanceOf(ConflictError);
    expect((await h.store.getSession(provisioning.id))?.status).toBe('running');
    await h.lab.idle();
  });
});

describe('certificate expiry: a golden image expires with the kubeadm certificates on its disks', () => {
  const DAY = 86_400_000;

  it('a session cloned from a golden image carries its certificates: an image built from it expires when the first bootstrap’s do', async () => {
    const h = createTestLab();
    const first = await runningSession(h);
    const bootstrapRun = (await h.lab.getSession(first)).run!;
    expect(bootstrapRun.usedStrategy).toBe('bootstrap');
    const issued = bootstrapRun.startedAt;
    const expires = issued + h.config.goldenLifetimeMs;

    h.clock.advance(100 * DAY);
    const v1 = await build(h, first);
    expect(v1).toMatchObject({ version: 1, status: 'ready', certsIssuedAt: issued, expiresAt: expires });

    // Two generations of sessions cloned from golden images, each the source of the next image.
    h.clock.advance(50 * DAY);
    const cloned = await runningSession(h);
    expect((await h.lab.getSession(cloned)).run).toMatchObject({ usedStrategy: 'snapshot', goldenVersion: 1 });
    h.clock.advance(50 * DAY);
    const v2 = await build(h, cloned, true);
    expect(v2).toMatchObject({ version: 2, status: 'ready', certsIssuedAt: issued, expiresAt: expires });

    h.clock.advance(50 * DAY);
    const clonedAgain = await runningSession(h);
    expect((await h.lab.getSession(clonedAgain)).run).toMatchObject({ usedStrategy: 'snapshot', goldenVersion: 2 });
    const v3 = await build(h, clonedAgain, true);
    expect(v3).toMatchObject({ version: 3, status: 'ready', certsIssuedAt: issued, expiresAt: expires });

    // 11 months after the first bootstrap, not after the last build, sessions stop cloning.
    h.clock.advance(expires - h.clock.now());
    const late = await h.lab.createSession();
    await h.lab.idle();
    expect((await h.lab.getSession(late.id)).run).toMatchObject({ usedStrategy: 'bootstrap', fallbackReason: 'golden-expired' });
  });

  it('a snapshot run that fell back to bootstrap has certificates of its own run, not of the golden image it pinned', async () => {
    const h = createTestLab();
    await build(h, await runningSession(h));
    h.clock.advance(30 * DAY);
    h.cluster.failClone = true;
    const fellBack = await runningSession(h);
    h.cluster.failClone = false;
    const run = (await h.lab.getSession(fellBack)).run!;
    expect(run).toMatchObject({
      requestedStrategy: 'snapshot',
      usedStrategy: 'bootstrap',
      fallbackReason: 'snapshot-path-failed',
      goldenVersion: 1,
    });

    const v2 = await build(h, fellBack, true);
    expect(v2).toMatchObject({
      version: 2,
      status: 'ready',
      certsIssuedAt: run.startedAt,
      expiresAt: run.startedAt + h.config.goldenLifetimeMs,
    });
  });

  it('refuses to build from a session whose certificates would already have run out, and records nothing', async () => {
    const h = createTestLab();
    const old = await runningSession(h);
    const issued = (await h.lab.getSession(old)).run!.startedAt;
    h.clock.advance(issued + h.config.goldenLifetimeMs - h.clock.now());
    const refused = h.lab.createGolden(old);
    await expect(refused).rejects.toBeInstanceOf(PreconditionError);
    await expect(refused).rejects.toThrow(/certificates of session .* were issued on .*would have expired on/);
    expect(h.store.dump().golden).toEqual([]);
  });
});

describe('recreate and garbage collection', () => {
  it('supersedes the old version, which is collected only after the grace and when no unfinished run clones from it', async () => {
    const h = createTestLab({ config: { goldenGraceMs: 120 * S } });
    const source = await runningSession(h);
    await build(h, source);

    // A session still provisioning from v1 when v2 arrives.
    const gate = latch();
    h.cluster.holdWhen = (call) => (call.op === 'waitVms' && call.args[2] === 'ready' && call.args[0] !== source ? gate.hold : null);
    const slow = await h.lab.createSession();
    const v2 = await h.lab.createGolden(source, true);
    await until(h.clock, async () => (await h.store.getGolden(v2.version))?.status === 'ready');
    h.cluster.holdWhen = null;
    await until(h.clock, async () => (await h.store.getGolden(v2.version))?.phase === 'done');

    const v1 = (await h.store.getGolden(1))!;
    expect(v1).toMatchObject({ status: 'superseded', supersededAt: (await h.store.getGolden(2))!.readyAt });
    expect(await h.store.activeGolden()).toMatchObject({ version: 2 });
    expect(h.cluster.dataSourceTarget()).toBe(2);
    expect(h.cluster.goldenVersions()).toEqual([1, 2]); // within the grace

    await h.clock.sleep(120 * S);
    await h.lab.maintainOnce();
    expect(h.cluster.goldenVersions()).toEqual([1, 2]); // the slow run still clones from v1
    expect((await h.store.getGolden(1))?.status).toBe('superseded');
    expect(await h.store.countUnfinishedRunsOnGolden(1)).toBe(1);

    gate.release();
    await h.lab.idle();
    expect((await h.lab.getSession(slow.id)).run).toMatchObject({ outcome: 'succeeded', usedStrategy: 'snapshot', goldenVersion: 1 });
    await h.lab.maintainOnce();
    expect(h.cluster.goldenVersions()).toEqual([2]);
    expect(ofVersion(h, 1)).toEqual([]);
    expect((await h.store.getGolden(1))?.status).toBe('deleted');
    expect(h.cluster.dataSourceTarget()).toBe(2); // the DataSources stay on the active version
    expect(await h.store.latestGolden()).toMatchObject({ version: 2 });
  });

  it('keeps a superseded version for the grace period even when no run uses it', async () => {
    const h = createTestLab({ config: { goldenGraceMs: 120 * S } });
    const source = await runningSession(h);
    await build(h, source);
    await build(h, source, true);
    const supersededAt = (await h.store.getGolden(1))!.supersededAt!;
    expect(await collectGoldenGarbage(h.direct)).toEqual([]);
    await h.clock.sleep(supersededAt + 120 * S - 1 - h.clock.now());
    expect(await collectGoldenGarbage(h.direct)).toEqual([]);
    await h.clock.sleep(1);
    expect(await collectGoldenGarbage(h.direct)).toEqual([1]);
    expect(h.cluster.goldenVersions()).toEqual([2]);
  });

  it('delete: new sessions fall back with no-golden-image; the disks go once unused', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    await build(h, source);
    const deleted = await h.lab.deleteGolden();
    expect(deleted).toMatchObject({ version: 1, status: 'deleting' });
    expect((await h.store.getGolden(1))?.status).toBe('deleted');
    expect(h.cluster.goldenObjects()).toEqual([]); // copies and DataSources
    expect(h.cluster.dataSourceTarget()).toBeNull();
    await expect(h.lab.deleteGolden()).rejects.toBeInstanceOf(NotFoundError);

    const next = await h.lab.createSession();
    expect(next.strategy).toBe('bootstrap');
    await h.lab.idle();
    expect((await h.lab.getSession(next.id)).run).toMatchObject({
      requestedStrategy: 'bootstrap',
      fallbackReason: 'no-golden-image',
      outcome: 'succeeded',
    });
    expect(await h.lab.goldenStatus()).toMatchObject({ status: 'none', activeStrategy: 'bootstrap', reason: 'no-golden-image' });
  });

  it('delete while a run still clones from the image: new sessions bootstrap at once, the disks wait for the run', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    await build(h, source);
    const gate = latch();
    h.cluster.holdWhen = (call) => (call.op === 'waitVms' && call.args[2] === 'running' ? gate.hold : null);
    const cloning = await h.lab.createSession();
    await h.clock.sleep(1 * S);
    await h.lab.deleteGolden();
    expect((await h.store.getGolden(1))?.status).toBe('deleting');
    expect(h.cluster.goldenVersions()).toEqual([1]);
    expect((await h.lab.createSession()).strategy).toBe('bootstrap');
    h.cluster.holdWhen = null;
    gate.release();
    await h.lab.idle();
    expect((await h.lab.getSession(cloning.id)).run).toMatchObject({ outcome: 'succeeded', usedStrategy: 'snapshot' });
    await h.lab.maintainOnce();
    expect(h.cluster.goldenVersions()).toEqual([]);
  });
});

describe('resumption of a build after a crash', () => {
  it('continues from the recorded phase without halting or snapshotting again', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    const crashed = crashAt(h, (c) => c.op === 'ensureGoldenCopy');
    await h.lab.createGolden(source);
    await crashed;
    expect(await h.store.getGolden(1)).toMatchObject({ status: 'building', phase: 'copy-disks' });
    const halts = h.cluster.calls.filter((c) => c.op === 'setRunStrategy' && c.args[2] === 'Halted').length;

    h.cluster.freezeWhen = null;
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();

    expect(await restarted.store.getGolden(1)).toMatchObject({ status: 'ready', phase: 'done' });
    expect(halts).toBe(1);
    expect(h.cluster.calls.filter((c) => c.op === 'setRunStrategy' && c.args[2] === 'Halted')).toHaveLength(1);
    expect(h.cluster.callsOf('ensureVmSnapshot')).toHaveLength(2);
    expect(h.cluster.goldenVersions()).toEqual([1]);
    expect(snapshotObjects(h, source)).toEqual([]);
    expect(h.cluster.recreated()).toEqual([]);
  });

  it('resumes from any recorded phase (executeGoldenBuild on a record)', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    // Halted and snapshotted by a process that then died; the record says "restart-source".
    await h.cluster.setRunStrategy(source, ROLES, 'Halted');
    const snaps = await Promise.all(
      ROLES.map(async (role) => {
        await h.cluster.ensureVmSnapshot(source, role, 1);
        return h.cluster.waitVmSnapshot(source, role, 1, h.clock.now() + 60 * S);
      }),
    );
    const record = await startGoldenBuild(h.direct, source, false);
    const image = await h.store.updateGolden(1, {
      phase: 'restart-source',
      disks: record.disks.map((d, i) => ({ ...d, volumeSnapshot: snaps[i]!.volumeSnapshot, sizeBytes: snaps[i]!.sizeBytes })),
    });
    const callsBefore = h.cluster.calls.length;
    const done = await executeGoldenBuild(h.direct, image);
    expect(done).toMatchObject({ status: 'ready', phase: 'done' });
    const ops = h.cluster.calls.slice(callsBefore).map((c) => c.op);
    expect(ops).not.toContain('ensureVmSnapshot');
    expect(ops[0]).toBe('setRunStrategy');
    expect(h.cluster.vm(source, 'worker')?.runStrategy).toBe('Always');
  });

  it('a crash after the switch is finished on restart: the session snapshots are removed', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    let died!: () => void;
    const crashed = new Promise<void>((resolve) => (died = resolve));
    h.store.freezeWhen = (method, args) => {
      const hit = method === 'updateGolden' && (args[1] as Partial<GoldenImage>).phase === 'remove-session-snapshots';
      if (hit) died();
      return hit;
    };
    await h.lab.createGolden(source);
    await crashed;
    expect(await h.store.getGolden(1)).toMatchObject({ status: 'ready', phase: 'switch-datasources' });
    expect(snapshotObjects(h, source)).not.toEqual([]);

    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.store.getGolden(1)).toMatchObject({ status: 'ready', phase: 'done' });
    expect(snapshotObjects(h, source)).toEqual([]);
    expect(h.cluster.goldenVersions()).toEqual([1]);
  });

  it('a failure after the switch does not take down the image that is already live', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    h.cluster.failWhen = (call) => (call.op === 'deleteVmSnapshots' ? new ClusterFailure('snapshot finalizer stuck') : null);
    const image = await build(h, source);
    // Still live, the cleanup recorded as pending.
    expect(image).toMatchObject({ status: 'ready', phase: 'remove-session-snapshots', failureReason: null });
    expect(h.cluster.goldenVersions()).toEqual([1]);
    expect(h.cluster.dataSourceTarget()).toBe(1);
    expect(h.logger.at('warn').some((e) => /session snapshots/.test(e.message))).toBe(true);
    const next = await h.lab.createSession();
    expect(next.strategy).toBe('snapshot');
    await h.lab.idle();

    // The next start finishes the cleanup.
    h.cluster.failWhen = null;
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.store.getGolden(1)).toMatchObject({ status: 'ready', phase: 'done' });
    expect(snapshotObjects(h, source)).toEqual([]);
  });
});
