import type { RunStrategy, StepName, Strategy } from './types';

/** The steps each strategy runs, in order, as `executeRun` (provisioning.ts) runs them. */
export const STRATEGY_STEPS: Record<Strategy, readonly StepName[]> = {
  snapshot: ['prepare-namespace', 'create-vms-from-golden', 'wait-disks-cloned', 'wait-vms-running', 'wait-cluster-ready'],
  bootstrap: ['prepare-namespace', 'create-control-plane', 'wait-control-plane-ready', 'create-worker', 'wait-cluster-ready'],
};

export interface PlannedStep {
  strategy: Strategy;
  name: StepName;
}

/**
 * The steps a run executing `used` goes through: that strategy's steps, preceded — after a fallback
 * from snapshot — by removing what the failed attempt created. Steps of the abandoned attempt are
 * not part of it. A warm run (a claim) has none.
 */
export function plannedSteps(requested: RunStrategy, used: RunStrategy): PlannedStep[] {
  if (used === 'warm') return [];
  const cleanup: PlannedStep[] =
    requested === 'snapshot' && used === 'bootstrap' ? [{ strategy: 'snapshot', name: 'remove-failed-attempt' }] : [];
  return [...cleanup, ...STRATEGY_STEPS[used].map((name) => ({ strategy: used, name }))];
}
