import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { MetricsRange, SqliteMetrics } from './metrics';
import { openDatabase } from './open-database';
import { seedRunHistory } from './seed-run-history';

/** Prometheus-style bounds (ms) used when timing `bucketCounts`. */
const BENCH_BUCKETS_MS = [30_000, 60_000, 90_000, 120_000, 180_000, 300_000, 450_000, 600_000, 900_000];
const DAY_MS = 24 * 60 * 60 * 1000;

/** Milliseconds per metrics query. */
export type MetricsTimings = Record<'summary' | 'rates' | 'series' | 'distribution' | 'stepBreakdown' | 'bucketCounts', number>;

export interface MetricsBenchResult {
  runs: number;
  steps: number;
  seedMs: number;
  /** Every query over the whole seeded history (30 days). */
  allHistory: MetricsTimings;
  /** Every query over the last 7 days of it. */
  lastWeek: MetricsTimings;
}

/** Seeds `count` runs into a throwaway database file and times each metrics query on it, as the metrics page calls them. */
export function benchMetrics(count = 100_000): MetricsBenchResult {
  const dir = mkdtempSync(join(tmpdir(), 'cks-lab-bench-'));
  const lab = openDatabase(join(dir, 'lab.db'));
  try {
    const now = Date.now();
    const seeding = performance.now();
    const written = seedRunHistory(lab.db, { count, now });
    const seedMs = elapsedSince(seeding);
    return {
      runs: written.runs,
      steps: written.steps,
      seedMs,
      allHistory: timeMetricsQueries(lab.metrics, {}),
      lastWeek: timeMetricsQueries(lab.metrics, { from: now - 7 * DAY_MS, to: now }),
    };
  } finally {
    lab.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function timeMetricsQueries(metrics: SqliteMetrics, range: MetricsRange): MetricsTimings {
  const time = (query: () => unknown) => {
    const started = performance.now();
    query();
    return elapsedSince(started);
  };
  return {
    summary: time(() => metrics.summary(range)),
    rates: time(() => metrics.rates(range)),
    series: time(() => metrics.series(range)),
    distribution: time(() => metrics.distribution(range)),
    stepBreakdown: time(() => metrics.stepBreakdown(range)),
    bucketCounts: time(() => metrics.bucketCounts(range, BENCH_BUCKETS_MS)),
  };
}

function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
