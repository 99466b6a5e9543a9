import { router } from './init';
import { accountRouter } from './routers/account';
import { clusterRouter } from './routers/cluster';
import { metricsRouter } from './routers/metrics';
import { poolRouter } from './routers/pool';
import { sessionsRouter } from './routers/sessions';
import { snapshotsRouter } from './routers/snapshots';
import { usersRouter } from './routers/users';

export const appRouter = router({
  cluster: clusterRouter,
  sessions: sessionsRouter,
  snapshots: snapshotsRouter,
  pool: poolRouter,
  metrics: metricsRouter,
  users: usersRouter,
  account: accountRouter,
});

/** Internal tools (the `lab` CLI, tests) import this type for type-safe calls. */
export type AppRouter = typeof appRouter;
