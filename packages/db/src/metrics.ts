import { STRATEGIES, improvement, type FallbackReason, type StepName, type Strategy } from '@cks-lab/core';
import { sql, type SQL } from 'drizzle-orm';
import type { LabDb } from './lab-db';

/**
 * Which runs a metric covers: started in [from, to); synthetic (seeded) runs only when asked for.
 * Time-to-ready is `ended_at - started_at` of a succeeded run, attributed to its used strategy.
 */
export interface MetricsRange {
  from?: number;
  to?: number;
  includeSynthetic?: boolean;
}

export interface StrategySummary {
  strategy: Strategy;
  runs: number;
  successes: number;
  failures: number;
  /** Runs that asked for snapshot and finished (or are finishing) on bootstrap. */
  fallbacks: number;
  /** Nearest-rank percentiles and mean of time-to-ready. */
  p50Ms: number | null;
  p95Ms: number | null;
  meanMs: number | null;
}

export interface MetricsSummary {
  /** Always both strategies, in STRATEGIES order. */
  strategies: StrategySummary[];
  totalRuns: number;
  /** As in `Rates`, which adds the reasons and costs less when percentiles are not needed. */
  fallbackRate: number | null;
  successRate: number | null;
  /** 1 - snapshot p50 / bootstrap p50 (see core `improvement`). */
  improvement: number | null;
}

export interface Rates {
  runs: number;
  /** Succeeded among finished runs; running ones are not counted yet. */
  successRate: number | null;
  /** Fallbacks among the runs that asked for snapshot. */
  fallbackRate: number | null;
  /**
   * Why runs used bootstrap, whether decided when the run was created (no golden image, expired…)
   * or after a failed snapshot attempt ('snapshot-path-failed'); most frequent first.
   */
  fallbacksByReason: Array<{ reason: FallbackReason; count: number }>;
}

export interface SeriesPoint {
  /** Start time of the run, or of the time bucket when bucketed. */
  t: number;
  strategy: Strategy;
  /** Time-to-ready, averaged over the bucket. */
  durationMs: number;
  count: number;
}

export interface HistogramBin {
  strategy: Strategy;
  /** [fromMs, toMs): the same edges for both strategies. */
  fromMs: number;
  toMs: number;
  count: number;
}

export interface StepMean {
  strategy: Strategy;
  step: StepName;
  meanMs: number;
  count: number;
}

/** A Prometheus-style histogram of time-to-ready: cumulative counts per upper bound. */
export interface StrategyBuckets {
  strategy: Strategy;
  buckets: Array<{ leMs: number; count: number }>;
  sumMs: number;
  count: number;
}

interface RateCountsRow {
  runs: number;
  successes: number;
  finished: number;
  snapshotRequests: number;
  fallbacks: number;
}

/** The aggregates behind the metrics page and the Prometheus endpoint, each computed in SQL. */
export class SqliteMetrics {
  constructor(private readonly db: LabDb) {}

  summary(range: MetricsRange = {}): MetricsSummary {
    // Nearest rank k = ceil(p/100 * n), in integer arithmetic: (n * p + 99) / 100.
    const rows = this.db.all<StrategySummary>(sql`
      WITH ranked AS (
        SELECT used_strategy, requested_strategy, outcome, ended_at - started_at AS duration,
          ROW_NUMBER() OVER (PARTITION BY used_strategy, outcome ORDER BY ended_at - started_at) AS rank,
          COUNT(*) OVER (PARTITION BY used_strategy, outcome) AS n
        FROM runs WHERE ${runsIn(range)}
      )
      SELECT used_strategy AS strategy,
        COUNT(*) AS runs,
        SUM(outcome = 'succeeded') AS successes,
        SUM(outcome = 'failed') AS failures,
        SUM(requested_strategy = 'snapshot' AND used_strategy = 'bootstrap') AS fallbacks,
        AVG(CASE WHEN outcome = 'succeeded' THEN duration END) AS meanMs,
        MAX(CASE WHEN outcome = 'succeeded' AND rank = (n * 50 + 99) / 100 THEN duration END) AS p50Ms,
        MAX(CASE WHEN outcome = 'succeeded' AND rank = (n * 95 + 99) / 100 THEN duration END) AS p95Ms
      FROM ranked GROUP BY used_strategy`);
    const strategies = STRATEGIES.map(
      (strategy): StrategySummary =>
        rows.find((row) => row.strategy === strategy) ?? {
          strategy,
          runs: 0,
          successes: 0,
          failures: 0,
          fallbacks: 0,
          p50Ms: null,
          p95Ms: null,
          meanMs: null,
        },
    );
    const total = (pick: (s: StrategySummary) => number) => strategies.reduce((sum, s) => sum + pick(s), 0);
    const snapshot = strategies.find((s) => s.strategy === 'snapshot');
    const bootstrap = strategies.find((s) => s.strategy === 'bootstrap');
    return {
      strategies,
      totalRuns: total((s) => s.runs),
      // Every fallback ends on bootstrap, so the snapshot requests are: those still on snapshot + fallbacks.
      fallbackRate: ratio(total((s) => s.fallbacks), (snapshot?.runs ?? 0) + total((s) => s.fallbacks)),
      successRate: ratio(total((s) => s.successes), total((s) => s.successes + s.failures)),
      improvement: improvement(snapshot?.p50Ms ?? null, bootstrap?.p50Ms ?? null),
    };
  }

  rates(range: MetricsRange = {}): Rates {
    const counts = this.db.get<RateCountsRow>(sql`
      SELECT COUNT(*) AS runs,
        COALESCE(SUM(outcome = 'succeeded'), 0) AS successes,
        COALESCE(SUM(outcome <> 'running'), 0) AS finished,
        COALESCE(SUM(requested_strategy = 'snapshot'), 0) AS snapshotRequests,
        COALESCE(SUM(requested_strategy = 'snapshot' AND used_strategy = 'bootstrap'), 0) AS fallbacks
      FROM runs WHERE ${runsIn(range)}`);
    const fallbacksByReason = this.db.all<{ reason: FallbackReason; count: number }>(sql`
      SELECT fallback_reason AS reason, COUNT(*) AS count
      FROM runs WHERE ${runsIn(range)} AND fallback_reason IS NOT NULL
      GROUP BY fallback_reason ORDER BY count DESC, reason`);
    return {
      runs: counts.runs,
      successRate: ratio(counts.successes, counts.finished),
      fallbackRate: ratio(counts.fallbacks, counts.snapshotRequests),
      fallbacksByReason,
    };
  }

  /**
   * Time-to-ready over time. Up to `maxPoints` succeeded runs come back one point each; beyond
   * that they are averaged into equal time buckets (maxPoints / 2 per strategy) in SQL.
   */
  series(range: MetricsRange = {}, maxPoints = 500): SeriesPoint[] {
    const perStrategy = Math.floor(maxPoints / STRATEGIES.length);
    if (perStrategy < 1) throw new RangeError(`maxPoints must be at least ${STRATEGIES.length}`);
    const succeeded = sql`${runsIn(range)} AND outcome = 'succeeded'`;
    const total = this.db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM runs WHERE ${succeeded}`).n;
    if (total <= maxPoints) {
      return this.db.all<SeriesPoint>(sql`
        SELECT started_at AS t, used_strategy AS strategy, ended_at - started_at AS durationMs, 1 AS count
        FROM runs WHERE ${succeeded} ORDER BY started_at, id`);
    }
    // width = floor(span / buckets) + 1 keeps every bucket index below the bucket count.
    return this.db.all<SeriesPoint>(sql`
      WITH done AS (
        SELECT used_strategy AS strategy, started_at, ended_at - started_at AS duration FROM runs WHERE ${succeeded}
      ),
      span AS MATERIALIZED (SELECT MIN(started_at) AS lo, (MAX(started_at) - MIN(started_at)) / ${integer(perStrategy)} + 1 AS width FROM done),
      bucketed AS (SELECT strategy, duration, (started_at - lo) / width AS bucket, lo, width FROM done, span)
      SELECT lo + bucket * width AS t, strategy, AVG(duration) AS durationMs, COUNT(*) AS count
      FROM bucketed GROUP BY strategy, bucket
      ORDER BY t, strategy`);
  }

  /**
   * Histogram of time-to-ready per strategy over `bins` integer-width bins spanning the overall
   * min..max, so both strategies share the x axis. Empty bins are included; no runs, no bins.
   */
  distribution(range: MetricsRange = {}, bins = 20): HistogramBin[] {
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError('bins must be a positive integer');
    const rows = this.db.all<{ strategy: Strategy; bin: number; count: number; lo: number; width: number }>(sql`
      WITH done AS (
        SELECT used_strategy AS strategy, ended_at - started_at AS duration
        FROM runs WHERE ${runsIn(range)} AND outcome = 'succeeded'
      ),
      span AS MATERIALIZED (SELECT MIN(duration) AS lo, (MAX(duration) - MIN(duration)) / ${integer(bins)} + 1 AS width FROM done)
      SELECT strategy, (duration - lo) / width AS bin, COUNT(*) AS count, lo, width
      FROM done, span GROUP BY strategy, bin`);
    const first = rows[0];
    if (!first) return [];
    const { lo, width } = first;
    return STRATEGIES.flatMap((strategy) =>
      Array.from({ length: bins }, (_, bin) => ({
        strategy,
        fromMs: lo + bin * width,
        toMs: lo + (bin + 1) * width,
        count: rows.find((row) => row.strategy === strategy && row.bin === bin)?.count ?? 0,
      })),
    );
  }

  /**
   * Mean duration of each succeeded step of the runs in range, by the step's strategy and name:
   * snapshot steps first, each strategy's steps in the order they run.
   */
  stepBreakdown(range: MetricsRange = {}): StepMean[] {
    return this.db.all<StepMean>(sql`
      SELECT steps.strategy AS strategy, steps.name AS step,
        AVG(steps.ended_at - steps.started_at) AS meanMs, COUNT(*) AS count
      FROM (SELECT id FROM runs WHERE ${runsIn(range)}) AS covered
      JOIN steps ON steps.run_id = covered.id
      WHERE steps.outcome = 'succeeded'
      GROUP BY steps.strategy, steps.name
      ORDER BY steps.strategy = 'bootstrap', MIN(steps.seq), step`);
  }

  /**
   * Cumulative counts of time-to-ready at or below each bound (sorted, deduplicated), with sum and
   * count, per strategy. The +Inf bucket is `count`.
   */
  bucketCounts(range: MetricsRange, bucketsMs: readonly number[]): StrategyBuckets[] {
    const bounds = [...new Set(bucketsMs)].sort((a, b) => a - b);
    if (bounds.some((bound) => !Number.isFinite(bound))) throw new RangeError('bucket bounds must be finite numbers');
    const columns = [
      sql`strategy`,
      sql`COUNT(*) AS count`,
      sql`SUM(duration) AS sumMs`,
      ...bounds.map((bound, i) => sql`SUM(duration <= ${bound}) AS ${sql.identifier(`le${i}`)}`),
    ];
    const rows = this.db.all<{ strategy: Strategy; count: number; sumMs: number; [bound: `le${number}`]: number }>(sql`
      WITH done AS (
        SELECT used_strategy AS strategy, ended_at - started_at AS duration
        FROM runs WHERE ${runsIn(range)} AND outcome = 'succeeded'
      )
      SELECT ${sql.join(columns, sql`, `)} FROM done GROUP BY strategy`);
    return STRATEGIES.map((strategy) => {
      const row = rows.find((r) => r.strategy === strategy);
      return {
        strategy,
        buckets: bounds.map((leMs, i) => ({ leMs, count: row?.[`le${i}`] ?? 0 })),
        sumMs: row?.sumMs ?? 0,
        count: row?.count ?? 0,
      };
    });
  }
}

/**
 * The runs a range covers, as a condition on `runs`. `synthetic` is constrained even when both
 * values are wanted: that keeps the (synthetic, started_at) index usable for the time range.
 */
function runsIn(range: MetricsRange): SQL {
  const conditions = [range.includeSynthetic ? sql`synthetic IN (0, 1)` : sql`synthetic = 0`];
  if (range.from !== undefined) conditions.push(sql`started_at >= ${range.from}`);
  if (range.to !== undefined) conditions.push(sql`started_at < ${range.to}`);
  return sql.join(conditions, sql` AND `);
}

/** better-sqlite3 binds every JS number as a REAL; integer division needs an INTEGER. */
function integer(value: number): SQL {
  return sql`CAST(${value} AS INTEGER)`;
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
