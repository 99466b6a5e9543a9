import type { PerStep, PlannedStep } from '@cks-lab/core';
import { sql } from 'drizzle-orm';
import type { LabDb } from './lab-db';

/** Enough runs for a steady median, few enough that it follows the cluster as it is now. */
export const STEP_HISTORY_RUNS = 25;

/**
 * The durations (ms) of each of these steps in its latest `perStep` succeeded runs: what the
 * ready-time estimate (core/ready-estimate.ts) expects the steps of a run in progress to take.
 * Each step is one short backward walk of steps_metrics_idx (strategy, name, run start), so the
 * cost does not grow with the history: it runs on every live update of a provisioning session.
 */
export function recentStepDurations(db: LabDb, steps: readonly PlannedStep[], perStep = STEP_HISTORY_RUNS): PerStep<number[]> {
  const durations: PerStep<number[]> = {};
  if (steps.length === 0) return durations;
  const latest = steps.map(
    ({ strategy, name }) => sql`SELECT * FROM (
      SELECT strategy, name, ended_at - started_at AS ms FROM steps
      WHERE outcome = 'succeeded' AND strategy = ${strategy} AND name = ${name}
      ORDER BY run_started_at DESC LIMIT ${perStep})`,
  );
  for (const { strategy, name, ms } of db.all<PlannedStep & { ms: number }>(sql.join(latest, sql` UNION ALL `))) {
    const byName = (durations[strategy] ??= {});
    (byName[name] ??= []).push(ms);
  }
  return durations;
}
