import { errorMessage } from './errors';
import type { DiskSource, OrchestrationDeps, Store } from './ports';
import { retryUntil } from './retry';
import { StepRunner } from './step-runner';
import { ROLES, type Role, type Run } from './types';

const CONTROL_PLANE: readonly Role[] = ['control-plane'];

/** Why a run was cancelled: its session was deleted (or, a pool member, retired) before it was ready. */
export const SESSION_ENDED_DURING_PROVISIONING = 'session deleted during provisioning';

/**
 * Drives one provisioning run to its end (docs/architecture.md#provisioning): the snapshot path when the run asked
 * for it, then — at most once — the bootstrap path after removing what the failed attempt created.
 * Re-entrant: called again for an unfinished run (after a restart) it continues from the recorded step.
 */
export async function executeRun(deps: OrchestrationDeps, initial: Run, signal?: AbortSignal): Promise<Run> {
  const { cluster, store, clock, logger, config, events } = deps;
  const d = config.deadlines;
  const sessionId = initial.sessionId;
  const notify = () => events.emit({ type: 'session', sessionId });
  const steps = new StepRunner(initial.id, store, clock, config.retryBackoffMs, notify, signal);
  await steps.load();
  let run = initial;
  const log = { sessionId, runId: run.id };

  await store.updateSession(sessionId, { status: 'provisioning', strategy: run.usedStrategy, updatedAt: clock.now() });
  notify();

  try {
    if (run.usedStrategy === 'snapshot') {
      try {
        const source = await goldenSources(store, run);
        await steps.run('snapshot', 'prepare-namespace', d.prepareNamespace, () => cluster.ensureSessionBase(sessionId));
        await steps.run('snapshot', 'create-vms-from-golden', d.prepareNamespace, async () => {
          await Promise.all(ROLES.map((role) => cluster.ensureVm(sessionId, role, source(role))));
        });
        await steps.run('snapshot', 'wait-disks-cloned', d.cloneDisks, (at) => cluster.waitVms(sessionId, ROLES, 'disk-ready', at, signal));
        await steps.run('snapshot', 'wait-vms-running', d.vmsRunning, (at) => cluster.waitVms(sessionId, ROLES, 'running', at, signal));
        await steps.run('snapshot', 'wait-cluster-ready', d.restoredClusterReady, (at) =>
          cluster.waitVms(sessionId, ROLES, 'ready', at, signal),
        );
      } catch (error) {
        signal?.throwIfAborted();
        // The pool never bootstraps: a failed member is replaced from the golden image instead.
        if (run.pool) throw error;
        logger.warn({ ...log, error: errorMessage(error) }, 'snapshot path failed; falling back to bootstrap');
        run = await store.updateRun(run.id, {
          usedStrategy: 'bootstrap',
          fallbackReason: 'snapshot-path-failed',
          fallbackDetail: errorMessage(error),
        });
        await store.updateSession(sessionId, { strategy: 'bootstrap', updatedAt: clock.now() });
        notify();
      }
    }

    if (run.requestedStrategy === 'snapshot' && run.usedStrategy === 'bootstrap') {
      await steps.run('snapshot', 'remove-failed-attempt', d.removeAttempt, (at) => cluster.deleteVms(sessionId, at));
    }

    if (run.usedStrategy === 'bootstrap') {
      const base: DiskSource = { kind: 'base-image' };
      await steps.run('bootstrap', 'prepare-namespace', d.prepareNamespace, () => cluster.ensureSessionBase(sessionId));
      await steps.run('bootstrap', 'create-control-plane', d.prepareNamespace, () => cluster.ensureVm(sessionId, 'control-plane', base));
      await steps.run('bootstrap', 'wait-control-plane-ready', d.cloneDisks + d.vmsRunning + d.controlPlaneReady, (at) =>
        cluster.waitVms(sessionId, CONTROL_PLANE, 'ready', at, signal),
      );
      await steps.run('bootstrap', 'create-worker', d.prepareNamespace, () => cluster.ensureVm(sessionId, 'worker', base));
      await steps.run('bootstrap', 'wait-cluster-ready', d.cloneDisks + d.vmsRunning + d.workerReady, (at) =>
        cluster.waitVms(sessionId, ROLES, 'ready', at, signal),
      );
    }

    const endedAt = clock.now();
    // Session first: a crash between the two writes leaves an unfinished run, which a restart completes.
    await store.updateSession(sessionId, { status: 'running', strategy: run.usedStrategy, updatedAt: endedAt });
    run = await store.updateRun(run.id, { outcome: 'succeeded', endedAt });
    logger.info({ ...log, strategy: run.usedStrategy, timeToReadyMs: endedAt - run.startedAt }, 'session running');
    notify();
    return run;
  } catch (error) {
    const reason = signal?.aborted ? SESSION_ENDED_DURING_PROVISIONING : errorMessage(error);
    const endedAt = clock.now();
    run = await store.updateRun(run.id, { outcome: signal?.aborted ? 'cancelled' : 'failed', endedAt, failureReason: reason });
    notify();
    if (signal?.aborted) return run;
    logger.error({ ...log, error: reason }, 'provisioning failed; removing the session from the cluster');
    await store.updateSession(sessionId, { status: 'failed', failureReason: reason, updatedAt: endedAt });
    await retryUntil(clock, clock.now() + d.deleteSession, 'remove failed session', config.retryBackoffMs, (at) =>
      cluster.deleteSession(sessionId, at),
    ).catch((cleanupError: unknown) => {
      logger.error({ ...log, error: errorMessage(cleanupError) }, 'cleanup of failed session incomplete; the reaper retries');
    });
    notify();
    return run;
  }
}

/** The pinned golden version's pair of disks: both VMs always clone from the same version. */
async function goldenSources(store: Store, run: Run): Promise<(role: Role) => DiskSource> {
  const version = run.goldenVersion;
  const golden = version === null ? null : await store.getGolden(version);
  if (!golden || version === null) throw new Error(`run ${run.id} asked for snapshot without a golden version`);
  return (role) => {
    const disk = golden.disks.find((d) => d.role === role);
    if (!disk) throw new Error(`golden image v${version} has no ${role} disk`);
    return { kind: 'golden', version, pvc: disk.pvc };
  };
}
