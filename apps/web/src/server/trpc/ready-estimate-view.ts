import { estimateReady, plannedSteps, type ReadyEstimate, type SessionDetail } from '@cks-lab/core';
import { recentStepDurations } from '@cks-lab/db';
import { modelledStepDurations } from '@cks-lab/kubevirt';
import type { Runtime } from '../runtime';

/**
 * When a provisioning session should be ready, from the recorded durations of past runs' steps and,
 * where none are recorded, the latency model (at the simulator's time scale when simulated: the
 * estimate is of the wall-clock wait). Null when the run is not in progress.
 */
export function readyEstimateView(runtime: Runtime, { run, steps }: Pick<SessionDetail, 'run' | 'steps'>): ReadyEstimate | null {
  if (run?.outcome !== 'running') return null;
  const plan = plannedSteps(run.requestedStrategy, run.usedStrategy);
  return estimateReady({
    runStartedAt: run.startedAt,
    plan,
    steps,
    history: recentStepDurations(runtime.database.db, plan),
    model: modelledStepDurations(runtime.config.sim.model, runtime.simulation?.timeScale ?? 1),
    now: Date.now(),
  });
}
