import type { HistogramBin, MetricsSummary, SeriesPoint, StepMean } from '@cks-lab/db';
import { runTiming, shownMs, shownMsOrNull, type Timing } from '../../lib/durations';

/**
 * The metrics as the API returns them: every duration as shown (modelled on the simulator,
 * lib/durations.ts; warm claims as measured). Ratios and timestamps are unchanged. The summary carries the timing, so a
 * page or the CLI can say once that the times are modelled.
 */
export function metricsSummaryView(summary: MetricsSummary, timing: Timing) {
  return {
    ...summary,
    strategies: summary.strategies.map((s) => {
      const shown = runTiming(timing, s.strategy);
      return { ...s, p50Ms: shownMsOrNull(shown, s.p50Ms), p95Ms: shownMsOrNull(shown, s.p95Ms), meanMs: shownMsOrNull(shown, s.meanMs) };
    }),
    timing,
  };
}

export function seriesView(points: SeriesPoint[], timing: Timing): SeriesPoint[] {
  return points.map((point) => ({ ...point, durationMs: shownMs(timing, point.durationMs) }));
}

export function distributionView(bins: HistogramBin[], timing: Timing): HistogramBin[] {
  return bins.map((bin) => ({ ...bin, fromMs: shownMs(timing, bin.fromMs), toMs: shownMs(timing, bin.toMs) }));
}

export function stepBreakdownView(steps: StepMean[], timing: Timing): StepMean[] {
  return steps.map((step) => ({ ...step, meanMs: shownMs(timing, step.meanMs) }));
}
