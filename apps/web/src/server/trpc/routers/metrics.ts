import { timeRange } from '../inputs';
import { publicProcedure, router } from '../init';

const SERIES_POINTS = 200;

/** Provisioning metrics from persisted runs; aggregation happens in SQL (packages/db). */
export const metricsRouter = router({
  summary: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.summary(input)),
  // About one point per 5 px of a wide chart: more would only cost rendering time.
  series: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.series(input, SERIES_POINTS)),
  distribution: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.distribution(input)),
  steps: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.stepBreakdown(input)),
  rates: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.rates(input)),
});
