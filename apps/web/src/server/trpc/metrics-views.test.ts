import type { MetricsSummary } from '@cks-lab/db';
import { describe, expect, it } from 'vitest';
import { timingOf } from '../../lib/durations';
import { distributionView, metricsSummaryView, seriesView, stepBreakdownView } from './metrics-views';

const timing = timingOf({ timeScale: 0.05 });

describe('metrics views', () => {
  it('show every duration modelled and keep ratios, counts and timestamps', () => {
    const summary: MetricsSummary = {
      strategies: [
        { strategy: 'snapshot', runs: 2, successes: 2, failures: 0, fallbacks: 0, p50Ms: 3_000, p95Ms: 4_000, meanMs: 3_500 },
        { strategy: 'bootstrap', runs: 1, successes: 0, failures: 1, fallbacks: 1, p50Ms: null, p95Ms: null, meanMs: null },
        { strategy: 'warm', runs: 1, successes: 1, failures: 0, fallbacks: 0, p50Ms: 40, p95Ms: 40, meanMs: 40 },
      ],
      poolHitRate: 0.5,
      totalRuns: 3,
      fallbackRate: 0.25,
      successRate: 0.75,
      improvement: 0.8,
    };
    expect(metricsSummaryView(summary, timing)).toEqual({
      ...summary,
      strategies: [
        { ...summary.strategies[0], p50Ms: 60_000, p95Ms: 80_000, meanMs: 70_000 },
        summary.strategies[1],
        // A claim is no simulated wait: as measured.
        summary.strategies[2],
      ],
      timing,
    });
    expect(seriesView([{ t: 1_700_000_000_000, strategy: 'bootstrap', durationMs: 23_500, count: 1 }], timing)).toEqual([
      { t: 1_700_000_000_000, strategy: 'bootstrap', durationMs: 470_000, count: 1 },
    ]);
    expect(distributionView([{ strategy: 'snapshot', fromMs: 1_000, toMs: 1_500, count: 4 }], timing)).toEqual([
      { strategy: 'snapshot', fromMs: 20_000, toMs: 30_000, count: 4 },
    ]);
    expect(stepBreakdownView([{ strategy: 'bootstrap', step: 'create-worker', meanMs: 6_000, count: 3 }], timing)).toEqual([
      { strategy: 'bootstrap', step: 'create-worker', meanMs: 120_000, count: 3 },
    ]);
  });
});
