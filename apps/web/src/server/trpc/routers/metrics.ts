import { timeRange } from '../inputs';
import { signedInProcedure, router } from '../init';

const SERIES_POINTS = 200;

/** Provisioning metrics from persisted runs; aggregation happens in SQL (packages/db). */
export const metricsRouter = router({
  summary: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.summary(input)),
  // About one point per 5 px of a wide chart: more would only cost rendering time.
  series: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.series(input, SERIES_POINTS)),
  distribution: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.distribution(input)),
  steps: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.stepBreakdown(input)),
  rates: signedInProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.rates(input)),
});
