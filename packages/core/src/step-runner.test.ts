import { describe, expect, it } from 'vitest';
import { ClusterFailure, DeadlineError, TransientError } from './errors';
import { StepRunner } from './step-runner';
import { MemoryStore, TestClock } from './testing';
import type { Run } from './types';

const run = (clock: TestClock): Run => ({
  id: 'run-1',
  sessionId: '76c3ac1b',
  requestedStrategy: 'bootstrap',
  usedStrategy: 'bootstrap',
  fallbackReason: 'no-golden-image',
  fallbackDetail: null,
  goldenVersion: null,
  startedAt: clock.now(),
  endedAt: null,
  outcome: 'running',
  failureReason: null,
});

async function setup() {
  const clock = new TestClock();
  const store = new MemoryStore();
  await store.insertRun(run(clock));
  let changes = 0;
  const runner = (signal?: AbortSignal) => new StepRunner('run-1', store, clock, 500, () => changes++, signal);
  return { clock, store, runner, changes: () => changes };
}

describe('StepRunner', () => {
  it('records each step with its order, start, end (duration) and outcome', async () => {
    const { clock, store, runner, changes } = await setup();
    const steps = runner();
    await steps.load();
    const t0 = clock.now();
    await steps.run('bootstrap', 'prepare-namespace', 60_000, () => clock.sleep(1_500));
    await steps.run(
      'bootstrap',
      'create-control-plane',
      60_000,
      async () => 'vm-1',
      (r) => `made ${String(r)}`,
    );
    const recorded = await store.stepsOfRun('run-1');
    expect(recorded).toEqual([
      {
        runId: 'run-1',
        seq: 1,
        strategy: 'bootstrap',
        name: 'prepare-namespace',
        startedAt: t0,
        endedAt: t0 + 1_500,
        outcome: 'succeeded',
        detail: null,
      },
      {
        runId: 'run-1',
        seq: 2,
        strategy: 'bootstrap',
        name: 'create-control-plane',
        startedAt: t0 + 1_500,
        endedAt: t0 + 1_500,
        outcome: 'succeeded',
        detail: 'made vm-1',
      },
    ]);
    expect(changes()).toBe(4); // start and finish of each
  });

  it('gives the work a deadline of now + timeout', async () => {
    const { clock, runner } = await setup();
    const steps = runner();
    await steps.load();
    let deadline = 0;
    await steps.run('snapshot', 'wait-disks-cloned', 90_000, async (at) => {
      deadline = at;
    });
    expect(deadline).toBe(clock.now() + 90_000);
  });

  it('retries transient errors inside the step and records one step', async () => {
    const { store, runner } = await setup();
    const steps = runner();
    await steps.load();
    let attempts = 0;
    await steps.run('bootstrap', 'create-worker', 60_000, async () => {
      if (++attempts < 3) throw new TransientError('HTTP 429');
    });
    expect(attempts).toBe(3);
    const [step] = await store.stepsOfRun('run-1');
    expect(step).toMatchObject({ name: 'create-worker', outcome: 'succeeded' });
    expect(step!.endedAt! - step!.startedAt).toBe(500 + 1000);
  });

  it('records a deadline as a failed step with the reason, and rethrows it', async () => {
    const { clock, store, runner } = await setup();
    const steps = runner();
    await steps.load();
    const t0 = clock.now();
    const error = await steps
      .run('snapshot', 'wait-vms-running', 10_000, async () => {
        throw new TransientError('connection reset');
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    const [step] = await store.stepsOfRun('run-1');
    expect(step).toMatchObject({ outcome: 'failed', startedAt: t0 });
    expect(step!.detail).toMatch(/wait-vms-running: deadline passed while retrying \(connection reset\)/);
    expect(step!.endedAt).toBeGreaterThan(t0);
  });

  it('records a non-transient error as final at once', async () => {
    const { clock, store, runner } = await setup();
    const steps = runner();
    await steps.load();
    let attempts = 0;
    const failure = new ClusterFailure('DataVolume clone failed');
    await expect(
      steps.run('snapshot', 'wait-disks-cloned', 60_000, async () => {
        attempts++;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(attempts).toBe(1);
    expect(await store.stepsOfRun('run-1')).toEqual([
      expect.objectContaining({ outcome: 'failed', detail: 'DataVolume clone failed', endedAt: clock.now() }),
    ]);
  });

  it('skips a step that already succeeded, also in a new runner after a restart', async () => {
    const { store, runner } = await setup();
    const first = runner();
    await first.load();
    let runs = 0;
    await first.run('bootstrap', 'prepare-namespace', 1000, async () => void runs++);
    await first.run('bootstrap', 'prepare-namespace', 1000, async () => void runs++);
    const second = runner();
    await second.load();
    expect(second.succeeded('bootstrap', 'prepare-namespace')).toBe(true);
    expect(second.succeeded('snapshot', 'prepare-namespace')).toBe(false); // same name, other strategy
    await second.run('bootstrap', 'prepare-namespace', 1000, async () => void runs++);
    expect(runs).toBe(1);
    expect(await store.stepsOfRun('run-1')).toHaveLength(1);
  });

  it('continues a step interrupted by a crash under its original record', async () => {
    const { clock, store, runner } = await setup();
    const t0 = clock.now();
    // The crashed process recorded the start of the step and died.
    await store.startStep({
      runId: 'run-1',
      seq: 1,
      strategy: 'bootstrap',
      name: 'wait-control-plane-ready',
      startedAt: t0,
      endedAt: null,
      outcome: 'running',
      detail: null,
    });
    await clock.sleep(5_000); // the restart took a while
    const steps = runner();
    await steps.load();
    let deadline = 0;
    await steps.run('bootstrap', 'wait-control-plane-ready', 30_000, async (at) => {
      deadline = at;
      await clock.sleep(1_000);
    });
    expect(deadline).toBe(t0 + 5_000 + 30_000); // a fresh deadline: the crash was not the step's fault
    expect(await store.stepsOfRun('run-1')).toEqual([
      expect.objectContaining({ seq: 1, startedAt: t0, endedAt: t0 + 6_000, outcome: 'succeeded' }),
    ]);
  });

  it('retries a failed step under a new record (a failed step is not success)', async () => {
    const { store, runner } = await setup();
    const steps = runner();
    await steps.load();
    await steps
      .run('bootstrap', 'create-worker', 1000, async () => {
        throw new ClusterFailure('boom');
      })
      .catch(() => {});
    await steps.run('bootstrap', 'create-worker', 1000, async () => {});
    expect((await store.stepsOfRun('run-1')).map((s) => [s.seq, s.outcome])).toEqual([
      [1, 'failed'],
      [2, 'succeeded'],
    ]);
  });

  it('refuses to start a step once its signal aborted, without recording it', async () => {
    const { store, runner } = await setup();
    const abort = new AbortController();
    const steps = runner(abort.signal);
    await steps.load();
    abort.abort(new Error('session deleted'));
    let ran = false;
    await expect(steps.run('bootstrap', 'prepare-namespace', 1000, async () => void (ran = true))).rejects.toThrow('session deleted');
    expect(ran).toBe(false);
    expect(await store.stepsOfRun('run-1')).toEqual([]);
  });
});
