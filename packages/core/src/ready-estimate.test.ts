import { describe, expect, it } from 'vitest';
import { estimateReady, type ReadyEstimateInput } from './ready-estimate';
import { plannedSteps } from './step-plan';

const S = 1000;
const T0 = 1_000_000;
const snapshotPlan = plannedSteps('snapshot', 'snapshot');
const model = {
  snapshot: { 'wait-disks-cloned': 5 * S, 'wait-vms-running': 20 * S, 'wait-cluster-ready': 45 * S },
  bootstrap: { 'wait-control-plane-ready': 325 * S, 'wait-cluster-ready': 145 * S },
};

function input(overrides: Partial<ReadyEstimateInput>): ReadyEstimateInput {
  return { runStartedAt: T0, plan: snapshotPlan, steps: [], history: {}, model, now: T0, ...overrides };
}

describe('estimateReady', () => {
  it('uses the model for steps no past run has recorded', () => {
    const estimate = estimateReady(input({}));
    expect(estimate).toEqual({ expectedReadyAt: T0 + 70 * S, progress: 0, basis: 'model', overdue: false });
  });

  it('takes the median of past durations per step, so one slow run does not move it', () => {
    const history = {
      snapshot: {
        'prepare-namespace': [1 * S, 1 * S, 1 * S],
        'create-vms-from-golden': [1 * S, 1 * S, 1 * S],
        'wait-disks-cloned': [10 * S, 12 * S, 600 * S],
        'wait-vms-running': [30 * S, 30 * S, 30 * S],
        'wait-cluster-ready': [50 * S, 40 * S, 60 * S],
      },
    };
    const estimate = estimateReady(input({ history }));
    expect(estimate.expectedReadyAt).toBe(T0 + (1 + 1 + 12 + 30 + 50) * S);
    expect(estimate.basis).toBe('history');
  });

  it('mixes history and model per step and says so', () => {
    const estimate = estimateReady(input({ history: { snapshot: { 'wait-cluster-ready': [30 * S] } } }));
    expect(estimate.expectedReadyAt).toBe(T0 + (5 + 20 + 30) * S);
    expect(estimate.basis).toBe('mixed');
  });

  it('says where the steps still ahead are estimated from, whatever the finished ones had', () => {
    // The run's own finished step is in the history by then; it does not make the estimate one of history.
    const steps = [{ strategy: 'snapshot' as const, name: 'prepare-namespace' as const, startedAt: T0, endedAt: T0 + 1 * S }];
    const history = { snapshot: { 'prepare-namespace': [1 * S] } };
    expect(estimateReady(input({ steps, history, now: T0 + 1 * S })).basis).toBe('model');
  });

  it('counts finished steps as done and the running one by what remains of it', () => {
    const steps = [
      { strategy: 'snapshot' as const, name: 'prepare-namespace' as const, startedAt: T0, endedAt: T0 + 2 * S },
      { strategy: 'snapshot' as const, name: 'create-vms-from-golden' as const, startedAt: T0 + 2 * S, endedAt: T0 + 3 * S },
      { strategy: 'snapshot' as const, name: 'wait-disks-cloned' as const, startedAt: T0 + 3 * S, endedAt: T0 + 8 * S },
      { strategy: 'snapshot' as const, name: 'wait-vms-running' as const, startedAt: T0 + 8 * S, endedAt: null },
    ];
    const now = T0 + 18 * S;
    const estimate = estimateReady(input({ steps, now }));
    // 10 s of the VM start's 20 remain, then the 45 s boot.
    expect(estimate.expectedReadyAt).toBe(now + 55 * S);
    expect(estimate.progress).toBeCloseTo(18 / (18 + 55));
    expect(estimate.overdue).toBe(false);
  });

  it('says overdue when a step outlasts its expected time, and never shows the bar full before ready', () => {
    const steps = [{ strategy: 'snapshot' as const, name: 'wait-cluster-ready' as const, startedAt: T0, endedAt: null }];
    const plan = snapshotPlan.filter((step) => step.name === 'wait-cluster-ready');
    const estimate = estimateReady(input({ plan, steps, now: T0 + 300 * S }));
    expect(estimate.overdue).toBe(true);
    expect(estimate.expectedReadyAt).toBe(T0 + 300 * S);
    expect(estimate.progress).toBe(0.99);
  });

  it('after a fallback, the cleanup and the bootstrap lie ahead; the abandoned attempt only counts as elapsed time', () => {
    const plan = plannedSteps('snapshot', 'bootstrap');
    expect(plan.map((step) => `${step.strategy}:${step.name}`)).toEqual([
      'snapshot:remove-failed-attempt',
      'bootstrap:prepare-namespace',
      'bootstrap:create-control-plane',
      'bootstrap:wait-control-plane-ready',
      'bootstrap:create-worker',
      'bootstrap:wait-cluster-ready',
    ]);
    const steps = [{ strategy: 'snapshot' as const, name: 'wait-disks-cloned' as const, startedAt: T0, endedAt: T0 + 30 * S }];
    const now = T0 + 30 * S;
    const history = { snapshot: { 'remove-failed-attempt': [4 * S] } };
    const estimate = estimateReady(input({ plan, steps, history, now }));
    expect(estimate.expectedReadyAt).toBe(now + (4 + 325 + 145) * S);
    expect(estimate.basis).toBe('mixed');
  });

  it('a warm claim has nothing ahead', () => {
    expect(plannedSteps('warm', 'warm')).toEqual([]);
  });
});
