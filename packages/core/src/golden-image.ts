import { ConflictError, errorMessage, NotFoundError, PreconditionError } from './errors';
import { assertSessionId, GOLDEN_NAMESPACE, names } from './naming';
import type { OrchestrationDeps, Store } from './ports';
import { retryUntil } from './retry';
import { GOLDEN_PHASES, type GoldenDisk, type GoldenImage, type GoldenPhase, ROLES, type Session } from './types';

/**
 * Starts a golden-image build from a running session and returns the new record;
 * the build itself continues with `executeGoldenBuild`. `replace` is the admin "recreate".
 */
export async function startGoldenBuild(deps: OrchestrationDeps, sessionId: string, replace: boolean): Promise<GoldenImage> {
  const { store, clock, config } = deps;
  assertSessionId(sessionId);
  const session = await store.getSession(sessionId);
  if (!session) throw new NotFoundError(`session ${sessionId} does not exist`);
  if (session.status !== 'running') {
    throw new PreconditionError(`session ${sessionId} is ${session.status}; a golden image needs a running session`);
  }
  // Halting it would hand a learner a cluster someone else had touched.
  if (session.pool) throw new PreconditionError(`session ${sessionId} is an unclaimed warm-pool member; build from a session of your own`);
  const active = await store.activeGolden();
  if (active && !replace) {
    throw new ConflictError(`golden image v${active.version} already exists; use recreate to replace it`);
  }
  const now = clock.now();
  const certsIssuedAt = await certificatesIssuedAt(store, session);
  const expiresAt = certsIssuedAt + config.goldenLifetimeMs;
  if (expiresAt <= now) {
    throw new PreconditionError(
      `the kubeadm certificates of session ${sessionId} were issued on ${iso(certsIssuedAt)}; a golden image of it would have expired on ${iso(expiresAt)}: build from a session provisioned by bootstrap`,
    );
  }
  const version = await store.nextGoldenVersion();
  const image: GoldenImage = {
    version,
    status: 'building',
    phase: 'halt-source',
    sourceSessionId: sessionId,
    k8sVersion: config.k8sVersion,
    createdAt: now,
    readyAt: null,
    supersededAt: null,
    certsIssuedAt,
    expiresAt,
    disks: ROLES.map((role) => ({ role, volumeSnapshot: null, pvc: names.goldenCopy(role, version), sizeBytes: null })),
    failureReason: null,
  };
  await store.insertGoldenBuild(image);
  deps.events.emit({ type: 'golden', version });
  return image;
}

/**
 * When the kubeadm certificates of a session's cluster were issued. A session provisioned by
 * bootstrap (a snapshot run that fell back included) got them at its run, which started before
 * kubeadm init ran; a session cloned from golden version N carries N's, however long ago those were.
 */
export async function certificatesIssuedAt(store: Store, session: Session): Promise<number> {
  const run = session.runId ? await store.getRun(session.runId) : null;
  if (!run)
    throw new PreconditionError(`session ${session.id} has no provisioning run on record: when its certificates were issued is unknown`);
  if (run.usedStrategy === 'bootstrap') return run.startedAt;
  const golden = run.goldenVersion === null ? null : await store.getGolden(run.goldenVersion);
  if (!golden) {
    throw new PreconditionError(
      `session ${session.id} was cloned from golden image v${run.goldenVersion ?? '?'}, of which there is no record: when its certificates were issued is unknown`,
    );
  }
  return golden.certsIssuedAt;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Runs (or resumes, after a restart) a build from its recorded phase to the end. */
export async function executeGoldenBuild(deps: OrchestrationDeps, initial: GoldenImage): Promise<GoldenImage> {
  const { cluster, store, clock, logger, config, events } = deps;
  const d = config.deadlines;
  const { version, sourceSessionId: sessionId } = initial;
  let image = initial;
  const log = { goldenVersion: version, sessionId };
  const advance = async (patch: Partial<GoldenImage>) => {
    image = await store.updateGolden(version, patch);
    events.emit({ type: 'golden', version });
  };
  const reached = (phase: GoldenPhase) => GOLDEN_PHASES.indexOf(image.phase) > GOLDEN_PHASES.indexOf(phase);
  // Once activated, the image is what new sessions clone from: a later failure must not undo it.
  let live = initial.status === 'ready';

  try {
    if (!reached('halt-source')) {
      // Offline snapshots are consistent, with no guest agent needed.
      const call = calls(deps, d.haltVms, `golden v${version} halt-source`);
      await call('halt the source VMs', () => cluster.setRunStrategy(sessionId, ROLES, 'Halted'));
      await call('wait for the source VMs to stop', (at) => cluster.waitVms(sessionId, ROLES, 'stopped', at));
      await advance({ phase: 'snapshot-vms' });
    }
    if (!reached('snapshot-vms')) {
      const call = calls(deps, d.vmSnapshot, `golden v${version} snapshot-vms`);
      await Promise.all(ROLES.map((role) => call(`snapshot ${role}`, () => cluster.ensureVmSnapshot(sessionId, role, version))));
      const results = await Promise.all(
        ROLES.map((role) => call(`wait for the ${role} snapshot`, (at) => cluster.waitVmSnapshot(sessionId, role, version, at))),
      );
      const disks: GoldenDisk[] = image.disks.map((disk, i) => ({
        ...disk,
        volumeSnapshot: results[i]?.volumeSnapshot ?? null,
        sizeBytes: results[i]?.sizeBytes ?? null,
      }));
      await advance({ phase: 'restart-source', disks });
    }
    if (!reached('restart-source')) {
      await restartSource(deps, sessionId, `golden v${version} restart-source`);
      await advance({ phase: 'copy-disks' });
    }
    if (!reached('copy-disks')) {
      const namespace = names.namespace(sessionId);
      const call = calls(deps, d.goldenCopy, `golden v${version} copy-disks`);
      await Promise.all(
        image.disks.map((disk) => call(`copy the ${disk.role} disk`, () => cluster.ensureGoldenCopy(version, disk, namespace))),
      );
      await call('wait for the copies', (at) => cluster.waitGoldenCopies(version, at));
      await advance({ phase: 'switch-datasources' });
    }
    if (!reached('switch-datasources')) {
      const call = calls(deps, d.prepareNamespace, `golden v${version} switch-datasources`);
      await call('point the DataSources', () => cluster.pointGoldenDataSources(version));
      await store.activateGolden(version, clock.now());
      live = true;
      await advance({ phase: 'remove-session-snapshots' });
    }
    if (!reached('remove-session-snapshots')) {
      const call = calls(deps, d.prepareNamespace, `golden v${version} remove-session-snapshots`);
      await call('remove the session snapshots', () => cluster.deleteVmSnapshots(sessionId, version));
      await advance({ phase: 'done' });
    }
    logger.info({ ...log, namespace: GOLDEN_NAMESPACE }, 'golden image ready');
    return image;
  } catch (error) {
    const reason = errorMessage(error);
    if (live) {
      logger.warn(
        { ...log, phase: image.phase, error: reason },
        'golden image is live; removing the session snapshots is left to a restart',
      );
      return image;
    }
    logger.error({ ...log, phase: image.phase, error: reason }, 'golden image build failed; cleaning up');
    await advance({ status: 'failed', failureReason: `${image.phase}: ${reason}` });
    return (await cleanUpFailedBuildLogged(deps, image)) ?? image;
  }
}

/**
 * Retries each cluster call of a phase on its own until the phase's shared deadline. Retrying a
 * whole phase from its first call instead needs one attempt in which every call succeeds, which
 * grows rarer with each call a phase makes: under the simulator's api-error fault the snapshot
 * phase (ten calls) ran out of time that way.
 */
function calls(deps: OrchestrationDeps, timeoutMs: number, scope: string) {
  const { clock, config } = deps;
  const deadlineAt = clock.now() + timeoutMs;
  return <T>(label: string, work: (deadlineAt: number) => Promise<T>): Promise<T> =>
    retryUntil(clock, deadlineAt, `${scope}: ${label}`, config.retryBackoffMs, work);
}

async function restartSource(deps: OrchestrationDeps, sessionId: string, scope: string): Promise<void> {
  const { cluster, config } = deps;
  const call = calls(deps, config.deadlines.vmsRunning + config.deadlines.restoredClusterReady, scope);
  await call('restart the source VMs', () => cluster.setRunStrategy(sessionId, ROLES, 'Always'));
  await call('wait for the source VMs to be ready', (at) => cluster.waitVms(sessionId, ROLES, 'ready', at));
}

/**
 * Undoes a failed build: its source session running again, nothing of its version left. The record
 * keeps status `failed` and its phase becomes `done` only once every action succeeded, so a cleanup
 * cut short (a crash, an outage beyond the deadlines) is picked up again at the next start and by
 * the maintenance passes (`pendingGoldenCleanups`). Every action is idempotent.
 */
export async function cleanUpFailedBuild(deps: OrchestrationDeps, image: GoldenImage): Promise<GoldenImage> {
  const { cluster, store, logger, config, events } = deps;
  const { version, sourceSessionId } = image;
  const scope = `cleanup of failed golden build v${version}`;
  const source = await store.getSession(sourceSessionId);
  const rebuilding = (await store.listGolden(['building'])).some((other) => other.sourceSessionId === sourceSessionId);
  // A source that has ended needs no restart, and a newer build halting it restarts it itself.
  if (source?.status === 'running' && !rebuilding) await restartSource(deps, sourceSessionId, scope);
  const call = calls(deps, config.deadlines.deleteSession, scope);
  await call('remove the session snapshots', () => cluster.deleteVmSnapshots(sourceSessionId, version));
  await call('remove the golden copies', () => cluster.deleteGoldenVersion(version));
  const done = await store.updateGolden(version, { phase: 'done' });
  events.emit({ type: 'golden', version });
  logger.info({ goldenVersion: version, sessionId: sourceSessionId }, 'failed golden build cleaned up');
  return done;
}

/** The cleanup, with an incomplete one logged (it is resumed later) instead of thrown; null then. */
export async function cleanUpFailedBuildLogged(deps: OrchestrationDeps, image: GoldenImage): Promise<GoldenImage | null> {
  return cleanUpFailedBuild(deps, image).catch((error: unknown) => {
    deps.logger.error(
      { goldenVersion: image.version, error: errorMessage(error) },
      'cleanup of a failed golden build incomplete; the next maintenance pass or start resumes it',
    );
    return null;
  });
}

/** Failed builds whose cleanup has not completed. */
export async function pendingGoldenCleanups(store: Store): Promise<GoldenImage[]> {
  return (await store.listGolden(['failed'])).filter((image) => image.phase !== 'done');
}

/** Admin "delete": new sessions fall back at once; the disks go when no run clones from them. */
export async function retireActiveGolden(deps: OrchestrationDeps): Promise<GoldenImage> {
  const active = await deps.store.activeGolden();
  if (!active) throw new NotFoundError('there is no golden image to delete');
  const image = await deps.store.updateGolden(active.version, { status: 'deleting' });
  deps.events.emit({ type: 'golden', version: active.version });
  return image;
}

/**
 * Garbage-collects superseded and deleted versions once no unfinished run clones from them
 * (and a superseded one only after the grace period, so a run that just picked it can pin it).
 */
export async function collectGoldenGarbage(deps: OrchestrationDeps): Promise<number[]> {
  const { store, cluster, clock, config, events } = deps;
  const removed: number[] = [];
  for (const image of await store.listGolden(['superseded', 'deleting'])) {
    if (image.status === 'superseded' && clock.now() - (image.supersededAt ?? 0) < config.goldenGraceMs) continue;
    if ((await store.countUnfinishedRunsOnGolden(image.version)) > 0) continue;
    await cluster.deleteGoldenVersion(image.version);
    await store.updateGolden(image.version, { status: 'deleted' });
    events.emit({ type: 'golden', version: image.version });
    removed.push(image.version);
  }
  return removed;
}
