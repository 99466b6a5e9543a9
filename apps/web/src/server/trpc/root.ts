import { router } from './init';
import { clusterRouter } from './routers/cluster';
import { metricsRouter } from './routers/metrics';
import { sessionsRouter } from './routers/sessions';
import { snapshotsRouter } from './routers/snapshots';

export const appRouter = router({
  cluster: clusterRouter,
  sessions: sessionsRouter,
  snapshots: snapshotsRouter,
  metrics: metricsRouter,
});

/** Internal tools (the `lab` CLI, tests) import this type for type-safe calls. */
export type AppRouter = typeof appRouter;
