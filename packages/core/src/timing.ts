/** Timing maths for runs (docs/architecture.md#metrics): nearest-rank percentiles and the snapshot-over-bootstrap improvement. */

export function percentile(sortedAscending: readonly number[], p: number): number | null {
  if (sortedAscending.length === 0) return null;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(Math.max(rank, 1), sortedAscending.length) - 1] ?? null;
}

export interface DurationSummary {
  count: number;
  p50: number | null;
  p95: number | null;
  mean: number | null;
}

export function summarize(durations: readonly number[]): DurationSummary {
  const sorted = [...durations].sort((a, b) => a - b);
  const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null;
  return { count: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean };
}

/** Fraction of bootstrap time that snapshot saves: 0.85 means 85% faster. Null without both. */
export function improvement(snapshotMs: number | null, bootstrapMs: number | null): number | null {
  if (snapshotMs === null || bootstrapMs === null || bootstrapMs <= 0) return null;
  return 1 - snapshotMs / bootstrapMs;
}
