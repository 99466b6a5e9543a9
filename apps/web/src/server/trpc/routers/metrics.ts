import { timingOf } from '../../../lib/durations';
import { router, signedInProcedure } from '../init';
import { timeRange } from '../inputs';
import { distributionView, metricsSummaryView, seriesView, stepBreakdownView } from '../metrics-views';

const SERIES_POINTS = 200;

/** Provisioning metrics from persisted runs; aggregation happens in SQL (packages/db), durations are shown as views say. */
export const metricsRouter = router({
  summary: signedInProcedure
    .input(timeRange)
    .query(({ ctx, input }) => metricsSummaryView(ctx.runtime.database.metrics.summary(input), timingOf(ctx.runtime.simulation))),
  // About one point per 5 px of a wide chart: more would only cost rendering time.
  series: signedInProcedure
    .input(timeRange)
    .query(({ ctx, input }) => seriesView(ctx.runtime.database.metrics.series(input, SERIES_POINTS), timingOf(ctx.runtime.simulation))),
  distribution: signedInProcedure
    .input(timeRange)
    .query(({ ctx, input }) => distributionView(ctx.runtime.database.metrics.distribution(input), timingOf(ctx.runtime.simulation))),
  steps: signedInProcedure
    .input(timeRange)
    .query(({ ctx, input }) => stepBreakdownView(ctx.runtime.database.metrics.stepBreakdown(input), timingOf(ctx.runtime.simulation))),
  rates: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.rates(input)),
});
