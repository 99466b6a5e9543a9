import type { PlannedStep } from './step-plan';
import { percentile } from './timing';
import type { Step, StepName, Strategy } from './types';

/** Something per step of each strategy; steps without an entry have none. */
export type PerStep<T> = Partial<Record<Strategy, Partial<Record<StepName, T>>>>;

export interface ReadyEstimateInput {
  /** When the run started: time spent before the first step (and in an abandoned attempt) counts as progress. */
  runStartedAt: number;
  /** The steps the run goes through (`plannedSteps`). */
  plan: readonly PlannedStep[];
  /** What the run has recorded so far. */
  steps: ReadonlyArray<Pick<Step, 'strategy' | 'name' | 'startedAt' | 'endedAt'>>;
  /** Durations (ms) of the same steps in past runs. */
  history: PerStep<readonly number[]>;
  /** Modelled durations (ms), for steps no past run has recorded. */
  model: PerStep<number>;
  now: number;
}

export interface ReadyEstimate {
  expectedReadyAt: number;
  /** Share of the expected time that has passed; stays below 1 until the run itself says ready. */
  progress: number;
  /** Where the durations of the steps still ahead come from: past runs, the model, or some of each. */
  basis: 'history' | 'model' | 'mixed';
  /** A step runs longer than expected: the ready time is "any moment", not a promise. */
  overdue: boolean;
}

/** The bar never reaches the end on a guess: only the run's own end says ready. */
const MAX_PROGRESS = 0.99;

/**
 * When a provisioning run should be ready: each step still ahead takes its median past duration
 * (the model's when no run has recorded it); the step in progress takes what remains of its own.
 * The median, not the mean: one stuck clone or slow node should not move every later estimate.
 */
export function estimateReady(input: ReadyEstimateInput): ReadyEstimate {
  const { runStartedAt, plan, steps, history, model, now } = input;
  let remainingMs = 0;
  let ahead = 0;
  let fromHistory = 0;
  let overdue = false;
  for (const planned of plan) {
    const recorded = steps.find((s) => s.strategy === planned.strategy && s.name === planned.name);
    if (recorded?.endedAt != null) continue;
    const past = history[planned.strategy]?.[planned.name] ?? [];
    const median = percentile(
      [...past].sort((a, b) => a - b),
      50,
    );
    ahead++;
    if (median !== null) fromHistory++;
    const typicalMs = median ?? model[planned.strategy]?.[planned.name] ?? 0;
    if (recorded) {
      const elapsedMs = now - recorded.startedAt;
      overdue ||= elapsedMs > typicalMs;
      remainingMs += Math.max(typicalMs - elapsedMs, 0);
    } else {
      remainingMs += typicalMs;
    }
  }
  const expectedReadyAt = now + remainingMs;
  return {
    expectedReadyAt,
    progress: progressAt(runStartedAt, expectedReadyAt, now),
    basis: fromHistory === ahead ? 'history' : fromHistory === 0 ? 'model' : 'mixed',
    overdue,
  };
}

/** The share of a run's expected time passed at `now`: pages move the bar with it between estimates. */
export function progressAt(runStartedAt: number, expectedReadyAt: number, now: number): number {
  const totalMs = expectedReadyAt - runStartedAt;
  return totalMs <= 0 ? 0 : Math.min(Math.max(now - runStartedAt, 0) / totalMs, MAX_PROGRESS);
}
