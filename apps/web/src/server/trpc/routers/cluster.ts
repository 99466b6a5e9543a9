import { timingOf } from '../../../lib/durations';
import { router, signedInProcedure } from '../init';

/** What the platform runs on, said plainly: simulated or real, limits, and the preflight checks. */
export const clusterRouter = router({
  info: signedInProcedure.query(async ({ ctx }) => {
    const { runtime } = ctx;
    const [preflight, active] = await Promise.all([runtime.lab.preflight(), runtime.database.store.countActiveSessions()]);
    return {
      mode: runtime.lab.mode,
      simulated: runtime.simulated,
      simulation: runtime.simulation,
      timing: timingOf(runtime.simulation),
      k8sVersion: runtime.config.lab.k8sVersion,
      sessionTtlMinutes: runtime.config.lab.sessionTtlMs / 60_000,
      maxConcurrentSessions: runtime.config.lab.maxConcurrentSessions,
      activeSessions: active,
      preflight,
    };
  }),
});
