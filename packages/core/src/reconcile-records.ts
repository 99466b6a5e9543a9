import { errorMessage } from './errors';
import type { ManagedObjects, OrchestrationDeps } from './ports';
import { retryUntil } from './retry';
import type { Run } from './types';

/** The failure reason of a record whose cluster objects are gone. */
export const OBJECTS_VANISHED = 'its objects vanished from the cluster';

/**
 * How long cks-lab-labelled objects without a record are only reported before they are removed:
 * long enough for an operator to notice a database restored from the wrong backup, or a second
 * installation sharing the cluster, before anything is deleted.
 */
export const UNRECORDED_GRACE_MS = 15 * 60_000;

export interface ReconcileReport {
  /** Session namespaces and golden versions in the cluster with no live record. */
  unrecorded: string[];
  /** Those of them removed (past the grace period). */
  removed: string[];
  /** Records marked failed (or deleted) because their objects are gone. */
  vanished: string[];
}

/**
 * Compares the database with what the cluster holds under cks-lab's labels, both ways. Objects
 * nobody recorded (a lost database, a session deleted before the backup was restored) are logged
 * and removed once older than `graceMs`. A record whose objects are gone is marked so and never
 * rebuilt: a running session or an unfinished run that had made its namespace becomes failed, a
 * ready golden image failed, a superseded or deleting one deleted. Work still making its objects
 * (a run before its namespace, a build before its copies) is left alone: its records come first.
 */
export async function reconcileRecords(deps: OrchestrationDeps, graceMs = UNRECORDED_GRACE_MS): Promise<ReconcileReport> {
  const { cluster, store, clock, config, logger, events } = deps;
  const read = () => cluster.listManagedObjects();
  const managed: ManagedObjects = await retryUntil(
    clock,
    clock.now() + config.deadlines.prepareNamespace,
    'list cks-lab objects',
    config.retryBackoffMs,
    read,
  );
  const report: ReconcileReport = { unrecorded: [], removed: [], vanished: [] };
  const now = clock.now();
  const simulated = cluster.mode === 'simulated';

  const unrecorded = async (what: string, createdAt: number, remove: (deadlineAt: number) => Promise<void>) => {
    report.unrecorded.push(what);
    const ageMs = now - createdAt;
    if (ageMs < graceMs) {
      logger.warn(
        { object: what, ageMs, removeInMs: graceMs - ageMs, simulated },
        'cks-lab objects in the cluster with no record; removed after the grace period',
      );
      return;
    }
    logger.warn({ object: what, ageMs, simulated }, 'removing cks-lab objects in the cluster with no record');
    try {
      await retryUntil(clock, clock.now() + config.deadlines.deleteSession, `remove ${what}`, config.retryBackoffMs, remove);
      report.removed.push(what);
    } catch (error) {
      logger.error({ object: what, error: errorMessage(error) }, 'unrecorded objects not removed yet; the next pass retries');
    }
  };

  for (const { sessionId, createdAt } of managed.sessions) {
    const session = await store.getSession(sessionId);
    if (session && session.status !== 'terminated') continue;
    await unrecorded(`session ${sessionId}`, createdAt, (at) => cluster.deleteSession(sessionId, at));
  }
  for (const { version, createdAt } of managed.goldenVersions) {
    const image = await store.getGolden(version);
    if (image && image.status !== 'deleted') continue;
    await unrecorded(`golden image v${version}`, createdAt, () => cluster.deleteGoldenVersion(version));
  }

  const present = new Set(managed.sessions.map((s) => s.sessionId));
  const vanishedSession = async (sessionId: string, run: Run | null) => {
    const endedAt = clock.now();
    if (run?.outcome === 'running') await store.updateRun(run.id, { outcome: 'failed', endedAt, failureReason: OBJECTS_VANISHED });
    await store.updateSession(sessionId, { status: 'failed', failureReason: OBJECTS_VANISHED, updatedAt: endedAt });
    logger.warn({ sessionId, simulated }, `session marked failed: ${OBJECTS_VANISHED}`);
    events.emit({ type: 'session', sessionId });
    report.vanished.push(`session ${sessionId}`);
  };
  for (const session of await store.listSessions({ activeOnly: true })) {
    if (present.has(session.id) || session.status === 'terminating') continue;
    const run = session.runId ? await store.getRun(session.runId) : null;
    const madeNamespace = run
      ? (await store.stepsOfRun(run.id)).some((s) => s.name === 'prepare-namespace' && s.outcome === 'succeeded')
      : false;
    if (session.status === 'running' || madeNamespace) await vanishedSession(session.id, run);
  }

  const versions = new Set(managed.goldenVersions.map((g) => g.version));
  for (const image of await store.listGolden(['ready', 'superseded', 'deleting'])) {
    if (versions.has(image.version)) continue;
    const patch =
      image.status === 'ready' ? { status: 'failed' as const, failureReason: OBJECTS_VANISHED } : { status: 'deleted' as const };
    await store.updateGolden(image.version, patch);
    logger.warn({ goldenVersion: image.version, was: image.status, simulated }, `golden image marked ${patch.status}: ${OBJECTS_VANISHED}`);
    events.emit({ type: 'golden', version: image.version });
    report.vanished.push(`golden image v${image.version}`);
  }
  return report;
}
