import { describe, expect, it } from 'vitest';
import { GOLDEN_NAMESPACE, names } from './naming';
import { executeRun } from './provisioning';
import { createSession } from './sessions';
import { STRATEGY_STEPS } from './step-plan';
import { createTestLab, type FakeCall, seedGolden, type TestLab } from './testing';
import type { Run, Step, Strategy } from './types';

const S = 1000;

/** Every object a provisioned session owns, as kind/namespace/name. */
function expectedObjects(id: string): string[] {
  const ns = names.namespace(id);
  return [
    `Namespace//${ns}`,
    `NetworkAttachmentDefinition/${ns}/lab-net`,
    `NetworkPolicy/${ns}/session-isolation`,
    `Service/${ns}/cluster-api`,
    `RoleBinding/${GOLDEN_NAMESPACE}/${names.cloneRoleBinding(id)}`,
    ...(['control-plane', 'worker'] as const).flatMap((role) => [
      `VirtualMachine/${ns}/${names.vm(role, id)}`,
      `DataVolume/${ns}/${names.rootDisk(role, id)}`,
      `Secret/${ns}/${names.cloudInit(role, id)}`,
    ]),
  ].sort();
}

const keys = (h: TestLab, id: string) =>
  h.cluster
    .objectsOf(id)
    .map((o) => `${o.kind}/${o.namespace}/${o.name}`)
    .sort();

const stepList = (steps: Step[]) => steps.map((s) => `${s.strategy}:${s.name}:${s.outcome}`);
const durations = (steps: Step[]) => Object.fromEntries(steps.map((s) => [`${s.strategy}:${s.name}`, (s.endedAt ?? NaN) - s.startedAt]));

async function newRun(h: TestLab) {
  return createSession(h.direct);
}

async function provision(h: TestLab): Promise<{ id: string; run: Run; steps: Step[] }> {
  const { session, run } = await newRun(h);
  const done = await executeRun(h.direct, run);
  return { id: session.id, run: done, steps: await h.store.stepsOfRun(run.id) };
}

/** Resolves with the first call `match` accepts, which then never returns (the process "dies" in it). */
function crashAt(h: TestLab, match: (call: FakeCall) => boolean): Promise<FakeCall> {
  return new Promise((resolve) => {
    h.cluster.freezeWhen = (call) => {
      if (!match(call)) return false;
      resolve(call);
      return true;
    };
  });
}

/** A strategy's steps, all succeeded, in the order step-plan.ts says: executeRun must follow it. */
const succeededSteps = (strategy: Strategy) => STRATEGY_STEPS[strategy].map((name) => `${strategy}:${name}:succeeded`);
const BOOTSTRAP_STEPS = succeededSteps('bootstrap');
const SNAPSHOT_STEPS = succeededSteps('snapshot');

describe('bootstrap path', () => {
  it('runs the steps in order, control plane before the worker, and marks the session running', async () => {
    const h = createTestLab();
    const t0 = h.clock.now();
    const { id, run, steps } = await provision(h);

    expect(run).toMatchObject({
      requestedStrategy: 'bootstrap',
      usedStrategy: 'bootstrap',
      fallbackReason: 'no-golden-image',
      goldenVersion: null,
      outcome: 'succeeded',
      endedAt: t0 + 470 * S,
    });
    expect(stepList(steps)).toEqual(BOOTSTRAP_STEPS);
    expect(steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    // Durations follow the modelled latencies: clone 5 s + start 20 s + kubeadm 300 s; worker 5 + 20 + join 120.
    expect(durations(steps)).toEqual({
      'bootstrap:prepare-namespace': 0,
      'bootstrap:create-control-plane': 0,
      'bootstrap:wait-control-plane-ready': 325 * S,
      'bootstrap:create-worker': 0,
      'bootstrap:wait-cluster-ready': 145 * S,
    });

    // The worker VM is created only once the control plane is ready.
    const ops = h.cluster.calls.map((c) => `${c.op}:${String(c.args[1])}:${c.op === 'waitVms' ? String(c.args[2]) : ''}`);
    expect(ops.indexOf('waitVms:control-plane:ready')).toBeLessThan(ops.indexOf('ensureVm:worker:'));
    expect(h.cluster.vm(id, 'control-plane')?.source).toEqual({ kind: 'base-image' });
    expect(h.cluster.vm(id, 'worker')?.source).toEqual({ kind: 'base-image' });

    expect(await h.store.getSession(id)).toMatchObject({ status: 'running', strategy: 'bootstrap', runId: run.id });
    expect(keys(h, id)).toEqual(expectedObjects(id));
  });

  it('on failure: run failed, session failed with the reason, nothing of it left in the cluster', async () => {
    const h = createTestLab({ cluster: { failBootstrap: true } });
    const { id, run, steps } = await provision(h);

    expect(run.outcome).toBe('failed');
    expect(run.failureReason).toMatch(/kubeadm init failed/);
    expect(run.endedAt).not.toBeNull();
    expect(stepList(steps)).toEqual([
      'bootstrap:prepare-namespace:succeeded',
      'bootstrap:create-control-plane:succeeded',
      'bootstrap:wait-control-plane-ready:failed',
    ]);
    expect(await h.store.getSession(id)).toMatchObject({ status: 'failed', failureReason: run.failureReason });
    expect(h.cluster.objectsOf(id)).toEqual([]);
    expect(h.cluster.allObjects()).toEqual([]); // including its RoleBinding in vm-templates
    expect(h.cluster.callsOf('ensureVm').map((c) => c.args[1])).toEqual(['control-plane']);
  });

  it('survives transient API errors on every kind of call', async () => {
    const h = createTestLab();
    const { session, run } = await newRun(h);
    h.cluster.transientFailures = 6;
    const done = await executeRun(h.direct, run);
    expect(done.outcome).toBe('succeeded');
    expect(h.cluster.transientFailures).toBe(0);
    expect(h.cluster.calls.filter((c) => c.error?.includes('503'))).toHaveLength(6);
    expect(stepList(await h.store.stepsOfRun(run.id))).toEqual(BOOTSTRAP_STEPS);
    expect(keys(h, session.id)).toEqual(expectedObjects(session.id));
  });
});

describe('snapshot path', () => {
  it('creates both VMs from the pinned golden pair and is ready after clone + start + boot', async () => {
    const h = createTestLab();
    const golden = await seedGolden(h);
    const t0 = h.clock.now();
    const { id, run, steps } = await provision(h);

    expect(run).toMatchObject({
      requestedStrategy: 'snapshot',
      usedStrategy: 'snapshot',
      fallbackReason: null,
      fallbackDetail: null,
      goldenVersion: golden.version,
      outcome: 'succeeded',
      endedAt: t0 + 70 * S,
    });
    expect(stepList(steps)).toEqual(SNAPSHOT_STEPS);
    expect(durations(steps)).toMatchObject({
      'snapshot:wait-disks-cloned': 5 * S,
      'snapshot:wait-vms-running': 20 * S,
      'snapshot:wait-cluster-ready': 45 * S,
    });
    expect(h.cluster.vm(id, 'control-plane')?.source).toEqual({ kind: 'golden', version: 1, pvc: 'cks-control-plane-golden-v1' });
    expect(h.cluster.vm(id, 'worker')?.source).toEqual({ kind: 'golden', version: 1, pvc: 'cks-worker-golden-v1' });
    expect(await h.store.getSession(id)).toMatchObject({ status: 'running', strategy: 'snapshot' });
    expect(keys(h, id)).toEqual(expectedObjects(id));
    expect(h.cluster.callsOf('deleteVms')).toEqual([]);
  });

  it('survives transient API errors without falling back', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const { run } = await newRun(h);
    h.cluster.transientFailures = 4;
    const done = await executeRun(h.direct, run);
    expect(done).toMatchObject({ outcome: 'succeeded', usedStrategy: 'snapshot', fallbackReason: null });
    expect(h.cluster.calls.filter((c) => c.error !== null)).toHaveLength(4);
  });
});

describe('fallback from snapshot to bootstrap, at most once', () => {
  it('on a failed clone: records snapshot-path-failed with the detail, removes the attempt, bootstraps', async () => {
    const h = createTestLab({ cluster: { failClone: true } });
    await seedGolden(h);
    const { id, run, steps } = await provision(h);

    expect(run).toMatchObject({
      requestedStrategy: 'snapshot',
      usedStrategy: 'bootstrap',
      fallbackReason: 'snapshot-path-failed',
      goldenVersion: 1,
      outcome: 'succeeded',
    });
    expect(run.fallbackDetail).toMatch(/clone from vm-templates\/cks-.*-golden-v1 failed/);
    expect(stepList(steps)).toEqual([
      'snapshot:prepare-namespace:succeeded',
      'snapshot:create-vms-from-golden:succeeded',
      'snapshot:wait-disks-cloned:failed',
      'snapshot:remove-failed-attempt:succeeded',
      ...BOOTSTRAP_STEPS,
    ]);
    expect(steps.find((s) => s.name === 'wait-disks-cloned')?.detail).toBe(run.fallbackDetail);
    // The failed attempt's VMs and golden-sourced disks were removed before bootstrap re-created them from the base image.
    const ops = h.cluster.calls.map((c) => c.op);
    expect(ops.indexOf('deleteVms')).toBeGreaterThan(-1);
    expect(h.cluster.callsOf('deleteVms')).toHaveLength(1);
    expect(h.cluster.calls.findIndex((c) => c.op === 'ensureVm' && (c.args[2] as { kind: string }).kind === 'base-image')).toBeGreaterThan(
      ops.indexOf('deleteVms'),
    );
    expect(h.cluster.vm(id, 'control-plane')?.source.kind).toBe('base-image');
    expect(h.cluster.vm(id, 'worker')?.source.kind).toBe('base-image');
    expect(keys(h, id)).toEqual(expectedObjects(id));
    expect(await h.store.getSession(id)).toMatchObject({ status: 'running', strategy: 'bootstrap' });
  });

  it('on a stuck clone: the clone wait ends at its own deadline, then the same run bootstraps', async () => {
    const h = createTestLab({ cluster: { stuckClone: true }, config: { deadlines: { cloneDisks: 90 * S } } });
    await seedGolden(h);
    const t0 = h.clock.now();
    const { id, run, steps } = await provision(h);

    const wait = steps.find((s) => s.name === 'wait-disks-cloned')!;
    expect(wait.outcome).toBe('failed');
    expect(wait.endedAt! - wait.startedAt).toBe(90 * S);
    expect(run).toMatchObject({ usedStrategy: 'bootstrap', fallbackReason: 'snapshot-path-failed', outcome: 'succeeded' });
    expect(run.fallbackDetail).toMatch(/disk-ready: deadline passed/);
    // 90 s stuck + 3 s removal + 470 s bootstrap.
    expect(run.endedAt! - t0).toBe((90 + 3 + 470) * S);
    expect(keys(h, id)).toEqual(expectedObjects(id));
  });

  it('on a golden disk that vanished: falls back as well', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const { run } = await newRun(h);
    await h.cluster.deleteGoldenVersion(1); // gone between the decision and the clone
    const done = await executeRun(h.direct, run);
    expect(done).toMatchObject({ usedStrategy: 'bootstrap', fallbackReason: 'snapshot-path-failed', outcome: 'succeeded' });
    expect(done.fallbackDetail).toMatch(/not found/);
  });

  it('never tries the snapshot path twice: when bootstrap fails too, the run fails and nothing is left', async () => {
    const h = createTestLab({ cluster: { failClone: true, failBootstrap: true } });
    await seedGolden(h);
    const { id, run, steps } = await provision(h);

    expect(run).toMatchObject({ outcome: 'failed', usedStrategy: 'bootstrap', fallbackReason: 'snapshot-path-failed' });
    expect(run.failureReason).toMatch(/kubeadm init failed/);
    expect(steps.filter((s) => s.name === 'remove-failed-attempt')).toHaveLength(1);
    expect(steps.filter((s) => s.strategy === 'snapshot' && s.name === 'create-vms-from-golden')).toHaveLength(1);
    const goldenEnsures = h.cluster.callsOf('ensureVm').filter((c) => (c.args[2] as { kind: string }).kind === 'golden');
    expect(goldenEnsures).toHaveLength(2);
    expect(await h.store.getSession(id)).toMatchObject({ status: 'failed' });
    expect(h.cluster.objectsOf(id)).toEqual([]);
    // The golden image itself is untouched by a session's failure.
    expect(h.cluster.goldenVersions()).toEqual([1]);
  });
});

describe('resumption after a crash', () => {
  it('continues a snapshot run from its recorded step: no succeeded step re-runs, nothing is duplicated', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const { session, run } = await newRun(h);
    const crashed = crashAt(h, (c) => c.op === 'waitVms' && c.args[2] === 'running');
    void executeRun(h.direct, run); // this "process" dies inside wait-vms-running
    await crashed;
    const before = await h.store.stepsOfRun(run.id);
    expect(stepList(before)).toEqual([...SNAPSHOT_STEPS.slice(0, 3), 'snapshot:wait-vms-running:running']);
    const callsBefore = h.cluster.calls.length;

    h.cluster.freezeWhen = null;
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();

    const after = await restarted.store.stepsOfRun(run.id);
    expect(stepList(after)).toEqual(SNAPSHOT_STEPS);
    // The interrupted step kept its record (seq and start); the others were not repeated.
    expect(after[3]).toMatchObject({ seq: before[3]!.seq, startedAt: before[3]!.startedAt });
    const resumedOps = h.cluster.calls.slice(callsBefore).map((c) => c.op);
    expect(resumedOps).not.toContain('ensureSessionBase');
    expect(resumedOps).not.toContain('ensureVm');
    expect(resumedOps.filter((op) => op === 'waitVms')).toHaveLength(2); // running, ready
    expect(await restarted.store.getRun(run.id)).toMatchObject({ outcome: 'succeeded', usedStrategy: 'snapshot' });
    expect(await restarted.store.getSession(session.id)).toMatchObject({ status: 'running' });
    expect(keys(h, session.id)).toEqual(expectedObjects(session.id));
    expect(h.cluster.recreated()).toEqual([]);
  });

  it('re-runs an interrupted "ensure" step idempotently: the VMs it had made are not duplicated', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const { session, run } = await newRun(h);
    // The process dies after the cluster made the VMs but before the step's success was recorded.
    let crashed!: () => void;
    const died = new Promise<void>((resolve) => (crashed = resolve));
    h.store.freezeWhen = (method, args) => {
      const hit = method === 'finishStep' && args[1] === 2;
      if (hit) crashed();
      return hit;
    };
    void executeRun(h.direct, run);
    await died;
    expect(h.cluster.vm(session.id, 'worker')).not.toBeNull();

    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();

    const steps = await restarted.store.stepsOfRun(run.id);
    expect(stepList(steps)).toEqual(SNAPSHOT_STEPS);
    expect(steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(h.cluster.callsOf('ensureVm')).toHaveLength(4); // the step ran twice…
    expect(h.cluster.recreated()).toEqual([]); // …but nothing was made twice
    expect(keys(h, session.id)).toEqual(expectedObjects(session.id));
    expect(await restarted.store.getRun(run.id)).toMatchObject({ outcome: 'succeeded' });
  });

  it('resumes a run that had already fallen back, in bootstrap, without a second snapshot attempt', async () => {
    const h = createTestLab({ cluster: { failClone: true } });
    await seedGolden(h);
    const { session, run } = await newRun(h);
    const crashed = crashAt(
      h,
      (c) => c.op === 'ensureVm' && c.args[1] === 'worker' && (c.args[2] as { kind: string }).kind === 'base-image',
    );
    void executeRun(h.direct, run);
    await crashed;
    const callsBefore = h.cluster.calls.length;

    h.cluster.freezeWhen = null;
    h.cluster.failClone = false; // even with the golden path healthy again, the run stays on bootstrap
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();

    const done = (await restarted.store.getRun(run.id))!;
    expect(done).toMatchObject({ outcome: 'succeeded', usedStrategy: 'bootstrap', fallbackReason: 'snapshot-path-failed' });
    const steps = await restarted.store.stepsOfRun(run.id);
    expect(stepList(steps)).toEqual([
      'snapshot:prepare-namespace:succeeded',
      'snapshot:create-vms-from-golden:succeeded',
      'snapshot:wait-disks-cloned:failed',
      'snapshot:remove-failed-attempt:succeeded',
      ...BOOTSTRAP_STEPS,
    ]);
    const resumed = h.cluster.calls.slice(callsBefore);
    expect(resumed.map((c) => c.op)).not.toContain('deleteVms');
    expect(resumed.filter((c) => c.op === 'ensureVm').map((c) => c.args[1])).toEqual(['worker']);
    expect(h.cluster.vm(session.id, 'control-plane')?.source.kind).toBe('base-image');
    expect(keys(h, session.id)).toEqual(expectedObjects(session.id));
    expect(h.cluster.callsOf('deleteVms')).toHaveLength(1);
  });

  it('a crash at the very end (run recorded as succeeded or not) still leaves the session running after restart', async () => {
    const h = createTestLab();
    await seedGolden(h);
    const { session, run } = await newRun(h);
    let died!: () => void;
    const crashed = new Promise<void>((resolve) => (died = resolve));
    // The process dies while recording the outcome: whichever of the two writes comes second never happens.
    let writes = 0;
    h.store.freezeWhen = (method, args) => {
      const final =
        (method === 'updateRun' && (args[1] as Partial<Run>).outcome === 'succeeded') ||
        (method === 'updateSession' && (args[1] as { status?: string }).status === 'running');
      if (final && ++writes === 2) {
        died();
        return true;
      }
      return false;
    };
    void executeRun(h.direct, run);
    await crashed;

    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.store.getSession(session.id)).toMatchObject({ status: 'running', strategy: 'snapshot' });
    expect(await restarted.store.getRun(run.id)).toMatchObject({ outcome: 'succeeded' });
    expect(stepList(await restarted.store.stepsOfRun(run.id))).toEqual(SNAPSHOT_STEPS);
  });

  it('resumes a bootstrap run mid-way (crash in the control-plane wait) and finishes it', async () => {
    const h = createTestLab();
    const { session, run } = await newRun(h);
    const crashed = crashAt(h, (c) => c.op === 'waitVms' && c.args[2] === 'ready');
    void executeRun(h.direct, run);
    await crashed;
    h.cluster.freezeWhen = null;
    await h.clock.sleep(60 * S); // the server was down for a minute

    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();

    expect(stepList(await restarted.store.stepsOfRun(run.id))).toEqual(BOOTSTRAP_STEPS);
    expect(h.cluster.callsOf('ensureVm').map((c) => c.args[1])).toEqual(['control-plane', 'worker']);
    expect(h.cluster.callsOf('ensureSessionBase')).toHaveLength(1);
    expect(await restarted.store.getSession(session.id)).toMatchObject({ status: 'running', strategy: 'bootstrap' });
    expect(h.cluster.recreated()).toEqual([]);
  });
});
