import { ConflictError, NotFoundError, PreconditionError, errorMessage } from './errors';
import { GOLDEN_NAMESPACE, assertSessionId, names } from './naming';
import type { OrchestrationDeps, Store } from './ports';
import { retryUntil } from './retry';
import { GOLDEN_PHASES, ROLES, type GoldenDisk, type GoldenImage, type GoldenPhase, type Session } from './types';


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
  if (!run) throw new PreconditionError(`session ${session.id} has no provisioning run on record: when its certificates were issued is unknown`);
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
    // Each phase is idempotent; transient API errors are retried within the phase's deadline.
    const phase = <T>(name: GoldenPhase, timeoutMs: number, work: (deadlineAt: number) => Promise<T>) =>
      retryUntil(clock, clock.now() + timeoutMs, `golden ${name}`, config.retryBackoffMs, work);

    if (!reached('halt-source')) {
      // Offline snapshots are consistent, with no guest agent needed.
      await phase('halt-source', d.haltVms, async (at) => {
        await cluster.setRunStrategy(sessionId, ROLES, 'Halted');
        await cluster.waitVms(sessionId, ROLES, 'stopped', at);
      });
      await advance({ phase: 'snapshot-vms' });
    }
    if (!reached('snapshot-vms')) {
      const results = await phase('snapshot-vms', d.vmSnapshot, async (at) => {
        await Promise.all(ROLES.map((role) => cluster.ensureVmSnapshot(sessionId, role, version)));
        return Promise.all(ROLES.map((role) => cluster.waitVmSnapshot(sessionId, role, version, at)));
      });
      const disks: GoldenDisk[] = image.disks.map((disk, i) => ({
        ...disk,
        volumeSnapshot: results[i]?.volumeSnapshot ?? null,
        sizeBytes: results[i]?.sizeBytes ?? null,
      }));
      await advance({ phase: 'restart-source', disks });
    }
    if (!reached('restart-source')) {
      await phase('restart-source', d.vmsRunning + d.restoredClusterReady, async (at) => {
        await cluster.setRunStrategy(sessionId, ROLES, 'Always');
        await cluster.waitVms(sessionId, ROLES, 'ready', at);
      });
      await advance({ phase: 'copy-disks' });
    }
    if (!reached('copy-disks')) {
      const namespace = names.namespace(sessionId);
      await phase('copy-disks', d.goldenCopy, async (at) => {
        await Promise.all(image.disks.map((disk) => cluster.ensureGoldenCopy(version, disk, namespace)));
        await cluster.waitGoldenCopies(version, at);
      });
      await advance({ phase: 'switch-datasources' });
    }
    if (!reached('switch-datasources')) {
      await phase('switch-datasources', d.prepareNamespace, () => cluster.pointGoldenDataSources(version));
      await store.activateGolden(version, clock.now());
      live = true;
      await advance({ phase: 'remove-session-snapshots' });
    }
    if (!reached('remove-session-snapshots')) {
      await phase('remove-session-snapshots', d.prepareNamespace, () => cluster.deleteVmSnapshots(sessionId, version));
      await advance({ phase: 'done' });
    }
    logger.info({ ...log, namespace: GOLDEN_NAMESPACE }, 'golden image ready');
    return image;
  } catch (error) {
    const reason = errorMessage(error);
    if (live) {
      logger.warn({ ...log, phase: image.phase, error: reason }, 'golden image is live; removing the session snapshots is left to a restart');
      return image;
    }
    logger.error({ ...log, phase: image.phase, error: reason }, 'golden image build failed; cleaning up');
    await advance({ status: 'failed', failureReason: `${image.phase}: ${reason}` });
    await undoFailedBuild(deps, image);
    return image;
  }
}

/** A failed build leaves the source session running and nothing of its version behind. */
async function undoFailedBuild(deps: OrchestrationDeps, image: GoldenImage): Promise<void> {
  const { cluster, logger } = deps;
  const steps: Array<[string, () => Promise<void>]> = [
    [
      'restart source VMs',
      async () => {
        await cluster.setRunStrategy(image.sourceSessionId, ROLES, 'Always');
        const { deadlines, retryBackoffMs } = deps.config;
        const deadlineAt = deps.clock.now() + deadlines.vmsRunning + deadlines.restoredClusterReady;
        await retryUntil(deps.clock, deadlineAt, 'source VMs ready again', retryBackoffMs, (at) =>
          cluster.waitVms(image.sourceSessionId, ROLES, 'ready', at),
        );
      },
    ],
    ['remove session snapshots', () => cluster.deleteVmSnapshots(image.sourceSessionId, image.version)],
    ['remove golden copies', () => cluster.deleteGoldenVersion(image.version)],
  ];
  for (const [what, step] of steps) {
    await step().catch((error: unknown) =>
      logger.error({ goldenVersion: image.version, error: errorMessage(error) }, `failed build cleanup: ${what}`),
    );
  }
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
