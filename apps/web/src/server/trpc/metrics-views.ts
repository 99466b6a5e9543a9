import type { HistogramBin, MetricsSummary, SeriesPoint, StepMean } from '@cks-lab/db';
import { shownMs, shownMsOrNull, type Timing } from '../../lib/durations';

/**
 * The metrics as the API returns them: every duration as shown (modelled on the simulator,
 * lib/durations.ts). Ratios and timestamps are unchanged. The summary carries the timing, so a
 * page or the CLI can say once that the times are modelled.
 */
export function metricsSummaryView(summary: MetricsSummary, timing: Timing) {
  return {
    ...summary,
    strategies: summary.strategies.map((s) => ({
      ...s,
      p50Ms: shownMsOrNull(timing, s.p50Ms),
      p95Ms: shownMsOrNull(timing, s.p95Ms),
      meanMs: shownMsOrNull(timing, s.meanMs),
    })),
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
