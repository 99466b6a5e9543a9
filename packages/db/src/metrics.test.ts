import type { FallbackReason, Run, RunOutcome, Step, Strategy } from '@cks-lab/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteMetrics } from './metrics';
import { type LabDatabase, openDatabase } from './open-database';
import { runRecord, sessionRecord, stepRecord } from './testing/fixtures';

const S = 1_000;
const T0 = 1_700_000_000_000;

interface RunSpec {
  requested: Strategy;
  used: Strategy;
  outcome: RunOutcome;
  durationMs?: number;
  reason?: FallbackReason;
  startedAt?: number;
  steps?: Array<Pick<Step, 'strategy' | 'name' | 'outcome'> & { ms: number }>;
}

/**
 * 17 runs, one per minute from T0, plus one from a day earlier.
 * snapshot time-to-ready: 10..100 s (10 runs); bootstrap: 400, 450, 500 s and a 600 s fallback.
 */
const SPECS: RunSpec[] = [
  ...[70, 10, 50, 30, 90, 20, 60, 40, 80, 100].map(
    (seconds): RunSpec => ({ requested: 'snapshot', used: 'snapshot', outcome: 'succeeded', durationMs: seconds * S }),
  ),
  { requested: 'snapshot', used: 'snapshot', outcome: 'failed', durationMs: 5 * S },
  { requested: 'snapshot', used: 'snapshot', outcome: 'running' },
  { requested: 'bootstrap', used: 'bootstrap', outcome: 'succeeded', durationMs: 400 * S, reason: 'no-golden-image' },
  { requested: 'bootstrap', used: 'bootstrap', outcome: 'succeeded', durationMs: 500 * S, reason: 'no-golden-image' },
  { requested: 'bootstrap', used: 'bootstrap', outcome: 'succeeded', durationMs: 450 * S, reason: 'golden-expired' },
  { requested: 'snapshot', used: 'bootstrap', outcome: 'succeeded', durationMs: 600 * S, reason: 'snapshot-path-failed' },
  { requested: 'snapshot', used: 'bootstrap', outcome: 'failed', durationMs: 300 * S, reason: 'snapshot-path-failed' },
  { requested: 'bootstrap', used: 'bootstrap', outcome: 'succeeded', durationMs: 999 * S, startedAt: T0 - 86_400 * S },
];
const IN_RANGE = { from: T0, to: T0 + 3_600 * S };

async function insertRuns(lab: LabDatabase, specs: RunSpec[]): Promise<void> {
  for (const [i, spec] of specs.entries()) {
    const sessionId = i.toString(16).padStart(8, '0');
    const startedAt = spec.startedAt ?? T0 + i * 60 * S;
    const run: Run = runRecord(`run-${i}`, sessionId, {
      requestedStrategy: spec.requested,
      usedStrategy: spec.used,
      fallbackReason: spec.reason ?? null,
      startedAt,
      endedAt: spec.durationMs === undefined ? null : startedAt + spec.durationMs,
      outcome: spec.outcome,
    });
    await lab.store.insertSessionWithinLimit(sessionRecord(sessionId, { status: 'terminated' }), 100);
    await lab.store.insertRun(run);
    let at = startedAt;
    for (const [seq, step] of (spec.steps ?? []).entries()) {
      await lab.store.startStep(stepRecord(run.id, seq + 1, { strategy: step.strategy, name: step.name, startedAt: at }));
      await lab.store.finishStep(run.id, seq + 1, { endedAt: at + step.ms, outcome: step.outcome, detail: null });
      at += step.ms;
    }
  }
}

describe('SqliteMetrics', () => {
  let lab: LabDatabase;
  let metrics: SqliteMetrics;

  beforeAll(async () => {
    lab = openDatabase(':memory:');
    metrics = lab.metrics;
    SPECS[0]!.steps = [
      { strategy: 'snapshot', name: 'prepare-namespace', outcome: 'succeeded', ms: 1 * S },
      { strategy: 'snapshot', name: 'wait-cluster-ready', outcome: 'succeeded', ms: 60 * S },
    ];
    SPECS[1]!.steps = [{ strategy: 'snapshot', name: 'prepare-namespace', outcome: 'succeeded', ms: 3 * S }];
    SPECS[15]!.steps = [
      { strategy: 'snapshot', name: 'prepare-namespace', outcome: 'succeeded', ms: 2 * S },
      { strategy: 'snapshot', name: 'wait-disks-cloned', outcome: 'failed', ms: 100 * S },
      { strategy: 'snapshot', name: 'remove-failed-attempt', outcome: 'succeeded', ms: 10 * S },
      { strategy: 'bootstrap', name: 'prepare-namespace', outcome: 'succeeded', ms: 4 * S },
      { strategy: 'bootstrap', name: 'wait-cluster-ready', outcome: 'succeeded', ms: 400 * S },
    ];
    SPECS[17]!.steps = [{ strategy: 'snapshot', name: 'prepare-namespace', outcome: 'succeeded', ms: 500 * S }];
    await insertRuns(lab, SPECS);
  });
  afterAll(() => lab.close());

  it('summarizes each strategy with nearest-rank percentiles, fallbacks and the improvement', () => {
    const summary = metrics.summary(IN_RANGE);
    expect(summary.strategies).toEqual([
      { strategy: 'snapshot', runs: 12, successes: 10, failures: 1, fallbacks: 0, p50Ms: 50 * S, p95Ms: 100 * S, meanMs: 55 * S },
      { strategy: 'bootstrap', runs: 5, successes: 4, failures: 1, fallbacks: 2, p50Ms: 450 * S, p95Ms: 600 * S, meanMs: 487.5 * S },
      { strategy: 'warm', runs: 0, successes: 0, failures: 0, fallbacks: 0, p50Ms: null, p95Ms: null, meanMs: null },
    ]);
    expect(summary.totalRuns).toBe(17);
    expect(summary.poolHitRate).toBe(0);
    expect(summary.successRate).toBe(14 / 16);
    expect(summary.fallbackRate).toBe(2 / 14);
    expect(summary.improvement).toBeCloseTo(1 - 50 / 450, 12);
  });

  it('filters on the start time', () => {
    expect(metrics.summary().totalRuns).toBe(18);
    expect(metrics.summary({ to: T0 }).strategies[1]).toMatchObject({ runs: 1, p50Ms: 999 * S });
    expect(metrics.summary({ from: T0 + 10 * 60 * S, to: T0 + 12 * 60 * S }).totalRuns).toBe(2);
  });

  it('returns both strategies, empty, when there are no runs', () => {
    const empty = metrics.summary({ from: 0, to: 1 });
    expect(empty.strategies.map((s) => [s.strategy, s.runs, s.p50Ms, s.meanMs])).toEqual([
      ['snapshot', 0, null, null],
      ['bootstrap', 0, null, null],
      ['warm', 0, null, null],
    ]);
    expect(empty).toMatchObject({ totalRuns: 0, fallbackRate: null, successRate: null, improvement: null, poolHitRate: null });
    expect(metrics.rates({ from: 0, to: 1 })).toEqual({ runs: 0, successRate: null, fallbackRate: null, fallbacksByReason: [] });
    expect(metrics.series({ from: 0, to: 1 })).toEqual([]);
    expect(metrics.distribution({ from: 0, to: 1 })).toEqual([]);
    expect(metrics.stepBreakdown({ from: 0, to: 1 })).toEqual([]);
  });

  it('gives success and fallback rates and why bootstrap was used', () => {
    expect(metrics.rates(IN_RANGE)).toEqual({
      runs: 17,
      successRate: 14 / 16,
      fallbackRate: 2 / 14,
      fallbacksByReason: [
        { reason: 'no-golden-image', count: 2 },
        { reason: 'snapshot-path-failed', count: 2 },
        { reason: 'golden-expired', count: 1 },
      ],
    });
  });

  it('returns one series point per succeeded run while they fit', () => {
    const series = metrics.series(IN_RANGE);
    expect(series).toHaveLength(14);
    expect(series[0]).toEqual({ t: T0, strategy: 'snapshot', durationMs: 70 * S, count: 1 });
    expect(series.at(-1)).toEqual({ t: T0 + 15 * 60 * S, strategy: 'bootstrap', durationMs: 600 * S, count: 1 });
    expect(series.map((p) => p.t)).toEqual([...series.map((p) => p.t)].sort((a, b) => a - b));
  });

  it('averages the series into time buckets beyond maxPoints', () => {
    const series = metrics.series(IN_RANGE, 4);
    const of = (strategy: Strategy) => series.filter((p) => p.strategy === strategy);
    expect(of('snapshot').length).toBeLessThanOrEqual(2);
    expect(of('bootstrap').length).toBeLessThanOrEqual(2);
    // The 15 minutes from the first to the last success split into buckets of 450.001 s.
    expect(series).toEqual([
      { t: T0, strategy: 'snapshot', durationMs: 46.25 * S, count: 8 },
      { t: T0 + 450_001, strategy: 'bootstrap', durationMs: 487.5 * S, count: 4 },
      { t: T0 + 450_001, strategy: 'snapshot', durationMs: 90 * S, count: 2 },
    ]);
    expect(() => metrics.series(IN_RANGE, 1)).toThrow(RangeError);
  });

  it('bins durations with edges shared by both strategies', () => {
    const bins = metrics.distribution(IN_RANGE, 4);
    // 10 s .. 600 s in 4 integer-width bins: width = floor(590000 / 4) + 1.
    const width = 147_501;
    const edges = [0, 1, 2, 3].map((i) => [10 * S + i * width, 10 * S + (i + 1) * width]);
    expect(bins).toEqual([
      ...edges.map(([fromMs, toMs], i) => ({ strategy: 'snapshot', fromMs, toMs, count: i === 0 ? 10 : 0 })),
      ...edges.map(([fromMs, toMs], i) => ({ strategy: 'bootstrap', fromMs, toMs, count: [0, 0, 2, 2][i] })),
    ]);
  });

  it('averages succeeded steps per strategy and name, in running order', () => {
    expect(metrics.stepBreakdown(IN_RANGE)).toEqual([
      { strategy: 'snapshot', step: 'prepare-namespace', meanMs: 2 * S, count: 3 },
      { strategy: 'snapshot', step: 'wait-cluster-ready', meanMs: 60 * S, count: 1 },
      { strategy: 'snapshot', step: 'remove-failed-attempt', meanMs: 10 * S, count: 1 },
      { strategy: 'bootstrap', step: 'prepare-namespace', meanMs: 4 * S, count: 1 },
      { strategy: 'bootstrap', step: 'wait-cluster-ready', meanMs: 400 * S, count: 1 },
    ]);
  });

  it('counts durations into cumulative buckets with sum and count', () => {
    expect(metrics.bucketCounts(IN_RANGE, [450 * S, 50 * S, 50 * S])).toEqual([
      {
        strategy: 'snapshot',
        buckets: [
          { leMs: 50 * S, count: 5 },
          { leMs: 450 * S, count: 10 },
        ],
        sumMs: 550 * S,
        count: 10,
      },
      {
        strategy: 'bootstrap',
        buckets: [
          { leMs: 50 * S, count: 0 },
          { leMs: 450 * S, count: 2 },
        ],
        sumMs: 1_950 * S,
        count: 4,
      },
      {
        strategy: 'warm',
        buckets: [
          { leMs: 50 * S, count: 0 },
          { leMs: 450 * S, count: 0 },
        ],
        sumMs: 0,
        count: 0,
      },
    ]);
  });
});

describe('SqliteMetrics and the warm pool', () => {
  it('reports warm claims beside the strategies, and the hit rate among starts (pool members are no starts)', async () => {
    const lab = openDatabase(':memory:');
    try {
      const add = async (i: number, run: Partial<Run>) => {
        const id = `0000000${i}`;
        await lab.store.insertSessionWithinLimit(sessionRecord(id), 100);
        await lab.store.insertRun(
          runRecord(`run-${i}`, id, { startedAt: T0 + i * S, endedAt: T0 + i * S + 90 * S, outcome: 'succeeded', ...run }),
        );
      };
      await add(1, { pool: true });
      await add(2, { pool: true });
      await add(3, { requestedStrategy: 'warm', usedStrategy: 'warm', endedAt: T0 + 3 * S + 40 });
      await add(4, { requestedStrategy: 'warm', usedStrategy: 'warm', endedAt: T0 + 4 * S + 60 });
      await add(5, {});
      const summary = lab.metrics.summary(IN_RANGE);
      expect(summary.strategies.find((s) => s.strategy === 'warm')).toMatchObject({ runs: 2, p50Ms: 40, p95Ms: 60 });
      expect(summary.strategies.find((s) => s.strategy === 'snapshot')).toMatchObject({ runs: 3 });
      expect(summary.poolHitRate).toBe(2 / 3);
      expect(lab.metrics.bucketCounts(IN_RANGE, [1000]).find((b) => b.strategy === 'warm')).toMatchObject({ count: 2, sumMs: 100 });
    } finally {
      lab.close();
    }
  });
});

describe('SqliteMetrics on the steps of runs that change', () => {
  it('counts steps by the current start of their run', async () => {
    const lab = openDatabase(':memory:');
    try {
      await lab.store.insertSessionWithinLimit(sessionRecord('0000000a'), 10);
      await lab.store.insertRun(runRecord('run-a', '0000000a', { startedAt: T0, endedAt: T0 + 60 * S, outcome: 'succeeded' }));
      await lab.store.startStep(stepRecord('run-a', 1, { startedAt: T0 }));
      await lab.store.finishStep('run-a', 1, { endedAt: T0 + 5 * S, outcome: 'succeeded', detail: null });
      const expected = [{ strategy: 'snapshot', step: 'prepare-namespace', meanMs: 5 * S, count: 1 }];
      expect(lab.metrics.stepBreakdown(IN_RANGE)).toEqual(expected);

      await lab.store.updateRun('run-a', { startedAt: T0 - 86_400 * S });
      expect(lab.metrics.stepBreakdown(IN_RANGE)).toEqual([]);
      expect(lab.metrics.stepBreakdown({ to: T0 })).toEqual(expected);
    } finally {
      lab.close();
    }
  });
});
