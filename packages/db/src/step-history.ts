import type { PerStep, StepName, Strategy } from '@cks-lab/core';
import { sql } from 'drizzle-orm';
import type { LabDb } from './lab-db';

/** Enough runs for a steady median, few enough that it follows the cluster as it is now. */
export const STEP_HISTORY_RUNS = 25;

/**
 * The durations (ms) of each step in its latest `perStep` succeeded runs, per strategy: what the
 * ready-time estimate (core/ready-estimate.ts) expects the steps of a run in progress to take.
 */
export function recentStepDurations(db: LabDb, perStep = STEP_HISTORY_RUNS): PerStep<number[]> {
  const rows = db.all<{ strategy: Strategy; name: StepName; ms: number }>(sql`
    SELECT strategy, name, ms FROM (
      SELECT strategy, name, ended_at - started_at AS ms,
        ROW_NUMBER() OVER (PARTITION BY strategy, name ORDER BY started_at DESC) AS recency
      FROM steps WHERE outcome = 'succeeded'
    ) WHERE recency <= ${perStep}`);
  const durations: PerStep<number[]> = {};
  for (const { strategy, name, ms } of rows) {
    const steps = (durations[strategy] ??= {});
    (steps[name] ??= []).push(ms);
  }
  return durations;
}
