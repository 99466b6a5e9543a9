import { timeRange } from '../inputs';
import { publicProcedure, router } from '../init';

/** Provisioning metrics from persisted runs; aggregation happens in SQL (packages/db). */
export const metricsRouter = router({
  summary: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.summary(input)),
  series: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.series(input)),
  distribution: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.distribution(input)),
  steps: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.stepBreakdown(input)),
  rates: publicProcedure.input(timeRange).query(({ ctx, input }) => ctx.runtime.database.metrics.rates(input)),
});
