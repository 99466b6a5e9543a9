import { type FallbackReason, improvement, type RunStrategy, STRATEGIES, type StepName, type Strategy } from '@cks-lab/core';
import { type SQL, sql } from 'drizzle-orm';
import type { LabDb } from './lab-db';

/**
 * Which runs a metric covers: started in [from, to). Time-to-ready is `ended_at - started_at` of a
 * succeeded run, attributed to its used strategy.
 */
export interface MetricsRange {
  from?: number;
  to?: number;
}

/** What the summary and Prometheus report: both provisioning strategies, then claims from the warm pool. */
export const METRIC_STRATEGIES: readonly RunStrategy[] = [...STRATEGIES, 'warm'];

export interface StrategySummary {
  strategy: RunStrategy;
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
  /** Always every strategy, in METRIC_STRATEGIES order. */
  strategies: StrategySummary[];
  /**
   * Starts served from the warm pool among all starts (pool members' own provisioning is no start).
   * Null without starts.
   */
  poolHitRate: number | null;
  totalRuns: number;
  /** As in `Rates`, which adds the reasons and costs less when percentiles are not needed. */
  fallbackRate: number | null;
  successRate: number | null;
  /** 1 - snapshot p50 / bootstrap p50 (see core `improvement`). */
  improvement: number | null;
}

export interface Rates {
  runs: number;
  /** Succeeded among runs that succeeded or failed: running ones are not counted yet, cancelled ones never. */
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
  strategy: RunStrategy;
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

/**
 * The aggregates behind the metrics page and the Prometheus endpoint, each computed in SQL.
 *
 * They read the metrics indexes (schema.ts; metrics-plans.test.ts pins them) in the indexes' own
 * order instead of sorting rows: groups come out of a walk in index order, distinct groups by
 * seeking from one to the next, percentiles as the k-th entry in duration order, histogram bins and
 * series buckets as one index range each. Time-to-ready is written `ended_at - started_at` throughout: the indexes hold
 * that expression, and SQLite uses them only for the very same expression.
 */
export class SqliteMetrics {
  constructor(private readonly db: LabDb) {}

  summary(range: MetricsRange = {}): MetricsSummary {
    // One read transaction: the percentile ranks come from the counts, so both see the same runs.
    const strategies = this.db.transaction((tx) => {
      const rows = tx.all<Omit<StrategySummary, 'p50Ms' | 'p95Ms'>>(sql`
        SELECT used_strategy AS strategy,
          SUM(n) AS runs,
          SUM(CASE WHEN outcome = 'succeeded' THEN n ELSE 0 END) AS successes,
          SUM(CASE WHEN outcome = 'failed' THEN n ELSE 0 END) AS failures,
          SUM(CASE WHEN used_strategy = 'bootstrap' THEN snapshotRequests ELSE 0 END) AS fallbacks,
          -- AVG's own arithmetic: the integer sum over the count of durations, as a REAL.
          SUM(CASE WHEN outcome = 'succeeded' THEN durationSum END) * 1.0
            / SUM(CASE WHEN outcome = 'succeeded' THEN durations END) AS meanMs
        FROM (${outcomeGroups(range)}) GROUP BY used_strategy`);
      return METRIC_STRATEGIES.map((strategy): StrategySummary => {
        const row = rows.find((r) => r.strategy === strategy);
        if (!row) {
          return { strategy, runs: 0, successes: 0, failures: 0, fallbacks: 0, p50Ms: null, p95Ms: null, meanMs: null };
        }
        if (row.successes === 0) return { ...row, p50Ms: null, p95Ms: null };
        const percentiles = tx.get<{ p50Ms: number | null; p95Ms: number | null }>(sql`
          SELECT (${nthDuration(range, strategy, nearestRank(50, row.successes))}) AS p50Ms,
            (${nthDuration(range, strategy, nearestRank(95, row.successes))}) AS p95Ms`);
        return { ...row, ...percentiles };
      });
    });
    const total = (pick: (s: StrategySummary) => number) => strategies.reduce((sum, s) => sum + pick(s), 0);
    const snapshot = strategies.find((s) => s.strategy === 'snapshot');
    const bootstrap = strategies.find((s) => s.strategy === 'bootstrap');
    const warm = strategies.find((s) => s.strategy === 'warm');
    // A partial index (migration 0004) holds the pool's runs: a handful.
    const poolRuns = this.db.get<{ n: number }>(sql`
      SELECT COUNT(*) AS n FROM runs WHERE ${where(sql`pool = 1`, ...startedIn(range, sql`started_at`))}`).n;
    return {
      strategies,
      poolHitRate: ratio(warm?.runs ?? 0, total((s) => s.runs) - poolRuns),
      totalRuns: total((s) => s.runs),
      // Every fallback ends on bootstrap, so the snapshot requests are: those still on snapshot + fallbacks.
      fallbackRate: ratio(
        total((s) => s.fallbacks),
        (snapshot?.runs ?? 0) + total((s) => s.fallbacks),
      ),
      successRate: ratio(
        total((s) => s.successes),
        total((s) => s.successes + s.failures),
      ),
      improvement: improvement(snapshot?.p50Ms ?? null, bootstrap?.p50Ms ?? null),
    };
  }

  rates(range: MetricsRange = {}): Rates {
    const counts = this.db.get<RateCountsRow>(sql`
      SELECT COALESCE(SUM(n), 0) AS runs,
        COALESCE(SUM(CASE WHEN outcome = 'succeeded' THEN n END), 0) AS successes,
        COALESCE(SUM(CASE WHEN outcome IN ('succeeded', 'failed') THEN n END), 0) AS finished,
        COALESCE(SUM(snapshotRequests), 0) AS snapshotRequests,
        COALESCE(SUM(CASE WHEN used_strategy = 'bootstrap' THEN snapshotRequests END), 0) AS fallbacks
      FROM (${outcomeGroups(range)})`);
    // Grouped in the order of runs_fallback_reason_idx; only the few groups are sorted.
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
    // Bucket b of a strategy holds its runs started in [lo + b * width, lo + (b + 1) * width);
    // width = floor(span / buckets) + 1 keeps every bucket index below the bucket count. The first
    // and last start of each strategy are one seek each (so here the time range is seeked by, no
    // `+`); each bucket is one range of runs_succeeded_started_at_idx, its sums packed into one
    // value (JSON integers, exact) as a scalar subquery returns one. Empty buckets are left out.
    const of = (strategy: SQL) => where(sql`outcome = 'succeeded'`, sql`used_strategy = ${strategy}`, ...startedIn(range, sql`started_at`));
    return this.db.all<SeriesPoint>(sql`
      WITH RECURSIVE ${usedStrategies()},
      ends AS MATERIALIZED (
        SELECT used.strategy AS strategy,
          (SELECT MIN(started_at) FROM runs WHERE ${of(sql`used.strategy`)}) AS first,
          (SELECT MAX(started_at) FROM runs WHERE ${of(sql`used.strategy`)}) AS last
        FROM used WHERE used.strategy IS NOT NULL
      ),
      span AS MATERIALIZED (
        SELECT MIN(first) AS lo, MAX(last) AS hi, (MAX(last) - MIN(first)) / ${integer(perStrategy)} + 1 AS width FROM ends
      ),
      strategies AS MATERIALIZED (SELECT DISTINCT strategy FROM ends WHERE first IS NOT NULL),
      buckets(t) AS (SELECT lo FROM span UNION ALL SELECT t + width FROM buckets, span WHERE t + width <= hi),
      points AS MATERIALIZED (
        SELECT buckets.t AS t, strategies.strategy AS strategy, (
          SELECT json_array(SUM(ended_at - started_at), COUNT(ended_at - started_at), COUNT(*)) FROM runs
          WHERE ${succeededOf(range, sql`strategies.strategy`)}
            AND started_at >= buckets.t AND started_at < buckets.t + span.width
        ) AS totals
        FROM strategies, span, buckets
      )
      SELECT t, strategy, (totals ->> 0) * 1.0 / (totals ->> 1) AS durationMs, totals ->> 2 AS count
      FROM points WHERE totals ->> 2 > 0 ORDER BY t, strategy`);
  }

  /**
   * Histogram of time-to-ready per strategy over `bins` integer-width bins spanning the overall
   * min..max, so both strategies share the x axis. Empty bins are included; no runs, no bins.
   */
  distribution(range: MetricsRange = {}, bins = 20): HistogramBin[] {
    if (!Number.isInteger(bins) || bins < 1) throw new RangeError('bins must be a positive integer');
    // The shortest and longest run of each strategy are the first and last in runs_metrics_idx
    // order; each bin is counted over one duration range of it.
    const of = (strategy: SQL) =>
      where(sql`outcome = 'succeeded'`, sql`used_strategy = ${strategy}`, ...startedIn(range, sql`+started_at`));
    const rows = this.db.all<{ strategy: Strategy; bin: number; count: number; lo: number; width: number }>(sql`
      WITH RECURSIVE ${usedStrategies()},
      ends AS MATERIALIZED (
        SELECT (SELECT MIN(ended_at - started_at) FROM runs WHERE ${of(sql`used.strategy`)}) AS shortest,
          (SELECT MAX(ended_at - started_at) FROM runs WHERE ${of(sql`used.strategy`)}) AS longest
        FROM used WHERE used.strategy IS NOT NULL
      ),
      span AS MATERIALIZED (
        SELECT MIN(shortest) AS lo, (MAX(longest) - MIN(shortest)) / ${integer(bins)} + 1 AS width FROM ends
      ),
      strategies(strategy) AS (VALUES ${strategyRows()}),
      bins(bin) AS (SELECT 0 UNION ALL SELECT bin + 1 FROM bins WHERE bin + 1 < ${integer(bins)})
      SELECT strategies.strategy AS strategy, bins.bin AS bin, span.lo AS lo, span.width AS width,
        (SELECT COUNT(*) FROM runs
          WHERE ${succeededOf(range, sql`strategies.strategy`)}
            AND ended_at - started_at >= span.lo + bins.bin * span.width
            AND ended_at - started_at < span.lo + (bins.bin + 1) * span.width) AS count
      FROM span, strategies, bins WHERE span.lo IS NOT NULL`);
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
    // Steps carry their run's start, so this reads steps_metrics_idx alone: its (strategy, name)
    // groups are found by seeking from one to the next (a few dozen seeks), then each group's run
    // start range is summed; the sums come packed into one value (JSON integers, exact) as a scalar
    // subquery returns one.
    return this.db.all<StepMean>(sql`
      WITH RECURSIVE
        strategies(strategy) AS (
          SELECT (SELECT MIN(strategy) FROM steps WHERE outcome = 'succeeded')
          UNION ALL
          SELECT (
            SELECT MIN(strategy) FROM steps WHERE outcome = 'succeeded' AND strategy > s.strategy
          ) FROM strategies AS s WHERE s.strategy IS NOT NULL
        ),
        groups(strategy, name) AS (
          SELECT s.strategy, (
            SELECT MIN(name) FROM steps WHERE outcome = 'succeeded' AND strategy = s.strategy
          ) FROM strategies AS s WHERE s.strategy IS NOT NULL
          UNION ALL
          SELECT g.strategy, (
            SELECT MIN(name) FROM steps WHERE outcome = 'succeeded' AND strategy = g.strategy AND name > g.name
          ) FROM groups AS g WHERE g.name IS NOT NULL
        ),
        totals AS MATERIALIZED (
          SELECT g.strategy AS strategy, g.name AS name, (
            SELECT json_array(SUM(ended_at - started_at), COUNT(ended_at - started_at), COUNT(*), MIN(seq)) FROM steps
            WHERE ${where(
              sql`outcome = 'succeeded'`,
              sql`strategy = g.strategy`,
              sql`name = g.name`,
              ...startedIn(range, sql`run_started_at`),
            )}
          ) AS totals
          FROM groups AS g WHERE g.name IS NOT NULL
        )
      SELECT strategy, name AS step, (totals ->> 0) * 1.0 / (totals ->> 1) AS meanMs, totals ->> 2 AS count
      FROM totals WHERE totals ->> 2 > 0
      ORDER BY strategy = 'bootstrap', totals ->> 3, step`);
  }

  /**
   * Cumulative counts of time-to-ready at or below each bound (sorted, deduplicated), with sum and
   * count, per strategy. The +Inf bucket is `count`.
   */
  bucketCounts(range: MetricsRange, bucketsMs: readonly number[]): StrategyBuckets[] {
    const bounds = [...new Set(bucketsMs)].sort((a, b) => a - b);
    if (bounds.some((bound) => !Number.isFinite(bound))) throw new RangeError('bucket bounds must be finite numbers');
    // Counted per bin (previous bound, bound], each one duration range of runs_metrics_idx, and
    // accumulated below; count and sum come from one walk, packed (JSON integers, exact).
    const of = succeededOf(range, sql`strategies.strategy`);
    const columns = [
      sql`strategy`,
      sql`(SELECT json_array(COUNT(*), SUM(ended_at - started_at)) FROM runs WHERE ${of}) AS totals`,
      ...bounds.map((bound, i) => {
        const above = i === 0 ? sql`` : sql` AND ended_at - started_at > ${bounds[i - 1]}`;
        return sql`(SELECT COUNT(*) FROM runs WHERE ${of} AND ended_at - started_at <= ${bound}${above}) AS ${sql.identifier(`bin${i}`)}`;
      }),
    ];
    const rows = this.db.all<{ strategy: RunStrategy; count: number; sumMs: number | null; [bin: `bin${number}`]: number }>(sql`
      WITH strategies(strategy) AS (VALUES ${strategyRows(METRIC_STRATEGIES)}),
        counted AS MATERIALIZED (SELECT ${sql.join(columns, sql`, `)} FROM strategies)
      SELECT *, totals ->> 0 AS count, totals ->> 1 AS sumMs FROM counted`);
    return METRIC_STRATEGIES.map((strategy) => {
      const row = rows.find((r) => r.strategy === strategy);
      let cumulative = 0;
      return {
        strategy,
        buckets: bounds.map((leMs, i) => ({ leMs, count: (cumulative += row?.[`bin${i}`] ?? 0) })),
        sumMs: row?.sumMs ?? 0,
        count: row?.count ?? 0,
      };
    });
  }
}

/**
 * The runs a range covers, as a condition on `runs`. The metrics walk the metrics indexes in their
 * own order (by outcome, strategy, duration…), which is what spares them sorting, and check the
 * start time of each entry on the way: the `+` keeps SQLite from seeking by start time instead
 * (runs_succeeded_started_at_idx, redone per bin over the whole range), then sorting.
 */
function runsIn(range: MetricsRange): SQL {
  return where(...startedIn(range, sql`+started_at`));
}

/** The succeeded runs in range of one strategy (an SQL value, e.g. a column of an outer query). */
function succeededOf(range: MetricsRange, strategy: SQL): SQL {
  return sql`${runsIn(range)} AND outcome = 'succeeded' AND used_strategy = ${strategy}`;
}

function startedIn(range: MetricsRange, column: SQL): SQL[] {
  const conditions: SQL[] = [];
  if (range.from !== undefined) conditions.push(sql`${column} >= ${range.from}`);
  if (range.to !== undefined) conditions.push(sql`${column} < ${range.to}`);
  return conditions;
}

/**
 * The recursive CTE `used(strategy)`: the strategies that succeeded runs used (at any time), each
 * found by one seek in runs_metrics_idx from the previous one (a loose index scan) instead of a
 * walk over the runs. A NULL strategy ends the chain.
 */
function usedStrategies(): SQL {
  const after = (strategy?: SQL) => sql`(
    SELECT MIN(used_strategy) FROM runs
    WHERE ${where(sql`outcome = 'succeeded'`, ...(strategy ? [sql`used_strategy > ${strategy}`] : []))}
  )`;
  return sql`used(strategy) AS (
    SELECT ${after()}
    UNION ALL
    SELECT ${after(sql`used.strategy`)} FROM used WHERE used.strategy IS NOT NULL
  )`;
}

/** The conditions joined by AND; none is true. */
function where(...conditions: SQL[]): SQL {
  return conditions.length > 0 ? sql.join(conditions, sql` AND `) : sql`1`;
}

/**
 * The k-th shortest (from 1) time-to-ready of a strategy's succeeded runs in range: the k-th entry
 * of runs_metrics_idx in its order, never sorted.
 */
function nthDuration(range: MetricsRange, strategy: RunStrategy, k: number): SQL {
  return sql`
    SELECT ended_at - started_at AS duration FROM runs
    WHERE ${succeededOf(range, sql`${strategy}`)}
    ORDER BY duration LIMIT 1 OFFSET ${integer(k - 1)}`;
}

/** Nearest rank k = ceil(p/100 * n), in integer arithmetic: (n * p + 99) / 100. */
function nearestRank(percent: number, n: number): number {
  return Math.floor((n * percent + 99) / 100);
}

/**
 * The runs in range by outcome and used strategy, with how many asked for snapshot and the sum and
 * count of their durations. Grouped in the order of runs_metrics_idx, so without sorting.
 */
function outcomeGroups(range: MetricsRange): SQL {
  return sql`
    SELECT outcome, used_strategy, COUNT(*) AS n,
      SUM(requested_strategy = 'snapshot') AS snapshotRequests,
      SUM(ended_at - started_at) AS durationSum, COUNT(ended_at - started_at) AS durations
    FROM runs WHERE ${runsIn(range)}
    GROUP BY outcome, used_strategy`;
}

/** Strategies as the rows of a VALUES clause. */
function strategyRows(strategies: readonly RunStrategy[] = STRATEGIES): SQL {
  return sql.join(
    strategies.map((strategy) => sql`(${strategy})`),
    sql`, `,
  );
}

/** better-sqlite3 binds every JS number as a REAL; integer division needs an INTEGER. */
function integer(value: number): SQL {
  return sql`CAST(${value} AS INTEGER)`;
}

function ratio(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}
