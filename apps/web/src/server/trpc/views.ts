import {
  type Actor,
  type ClusterObjectSummary,
  FALLBACK_REASON_TEXT,
  type GoldenStatusView,
  names,
  type PoolStatus,
  type Session,
  type Strategy,
} from '@cks-lab/core';
import type { Account } from '@cks-lab/db';
import { runTiming, shownMs, shownMsOrNull, timingOf } from '../../lib/durations';
import type { Runtime } from '../runtime';
import { readyEstimateView } from './ready-estimate-view';

/** The JSON shapes the API returns: what the CLI prints and the pages render. */
function sessionFields(session: Session, runtime: Runtime, owners: Map<string, string>) {
  const ownerId = session.ownerId ?? null;
  return {
    id: session.id,
    /** Who started it (null: an internal tool); admins see it in lists. */
    owner: ownerId ? { id: ownerId, name: owners.get(ownerId) ?? ownerId } : null,
    namespace: session.namespace,
    status: session.status,
    strategy: session.strategy,
    /** An unclaimed warm-pool member (admins see them in lists). */
    pool: session.pool ?? false,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    failureReason: session.failureReason,
    simulated: runtime.simulated,
  };
}

const ownersOf = (runtime: Runtime, sessions: Session[]) =>
  runtime.accounts.displayNames(sessions.flatMap((s) => (s.ownerId ? [s.ownerId] : [])));

export async function sessionView(session: Session, runtime: Runtime) {
  return sessionFields(session, runtime, await ownersOf(runtime, [session]));
}

export async function sessionListView(summaries: Array<{ session: Session; timeToReadyMs: number | null }>, runtime: Runtime) {
  const owners = await ownersOf(
    runtime,
    summaries.map((s) => s.session),
  );
  const timing = timingOf(runtime.simulation);
  return summaries.map(({ session, timeToReadyMs }) => ({
    ...sessionFields(session, runtime, owners),
    timeToReadyMs: shownMsOrNull(runTiming(timing, session.strategy), timeToReadyMs),
    timing,
  }));
}

/** `watched`: the objects as a watch last reported them, instead of reading the cluster again. */
export async function sessionDetailView(runtime: Runtime, id: string, actor: Actor, watched?: ClusterObjectSummary[]) {
  const detail = await runtime.lab.getSession(id, actor);
  const ended = detail.session.status === 'terminated';
  const objects = ended ? [] : (watched ?? (await runtime.lab.sessionObjects(id, actor)));
  const haltingBuild = await runtime.lab.buildHaltingSession(id, actor);
  const { run } = detail;
  const made = detail.session.strategy;
  const warm = made === 'warm';
  // A claimed member's cluster was cloned from the golden image before the click.
  const strategy: Strategy | null = made === 'warm' ? 'snapshot' : made;
  const timing = timingOf(runtime.simulation);
  return {
    ...(await sessionView(detail.session, runtime)),
    strategy,
    warm,
    /** When it was handed over from the warm pool. */
    claimedAt: warm ? (run?.endedAt ?? null) : null,
    runId: run?.id ?? null,
    requestedStrategy: run?.requestedStrategy ?? null,
    fallbackReason: run?.fallbackReason ?? null,
    fallbackReasonText: run?.fallbackReason ? FALLBACK_REASON_TEXT[run.fallbackReason] : null,
    fallbackDetail: run?.fallbackDetail ?? null,
    goldenVersion: run?.goldenVersion ?? null,
    runOutcome: run?.outcome ?? null,
    startedAt: run?.startedAt ?? null,
    endedAt: run?.endedAt ?? null,
    timeToReadyMs: shownMsOrNull(runTiming(timing, made), detail.timeToReadyMs),
    /** Whether durations here are modelled, and the rate a running step's clock ticks at. */
    timing,
    /** While provisioning: when it should be ready, as wall-clock time (ready-estimate-view.ts). */
    estimate: readyEstimateView(runtime, detail),
    /** The golden-image build halting this session's VMs right now. */
    haltedByGoldenBuild: haltingBuild ? { version: haltingBuild.version, phase: haltingBuild.phase } : null,
    steps: detail.steps.map((step) => ({
      name: step.name,
      strategy: step.strategy,
      status: step.outcome,
      startedAt: step.startedAt,
      endedAt: step.endedAt,
      durationMs: step.endedAt === null ? null : shownMs(timing, step.endedAt - step.startedAt),
      detail: step.detail,
    })),
    vms: {
      controlPlane: names.vm('control-plane', id),
      worker: names.vm('worker', id),
    },
    objects,
  };
}

export function goldenView(view: GoldenStatusView, runtime: Runtime) {
  const image = view.image;
  const ageOf = (at: number | null | undefined) => (at ? new Date(at).toISOString() : null);
  return {
    status: view.status,
    version: image?.version ?? null,
    phase: image?.phase ?? null,
    sourceSessionId: image?.sourceSessionId ?? null,
    k8sVersion: image?.k8sVersion ?? null,
    createdAt: ageOf(image?.createdAt),
    readyAt: ageOf(image?.readyAt),
    expiresAt: ageOf(image?.expiresAt),
    expiresInDays: image ? Math.floor((image.expiresAt - Date.now()) / 86_400_000) : null,
    failureReason: image?.failureReason ?? null,
    /** With no image: the last one's version when it was deleted (who and when are not recorded). */
    deletedVersion: view.deleted?.version ?? null,
    disks: (image?.disks ?? []).map((disk) => {
      const live = view.disks.find((d) => d.role === disk.role);
      return {
        role: disk.role,
        name: disk.pvc,
        sourceVolumeSnapshot: disk.volumeSnapshot,
        sizeBytes: disk.sizeBytes,
        phase: live?.phase ?? 'Missing',
        progress: live?.progress ?? null,
        cloneFallbackReason: live?.cloneFallbackReason ?? null,
      };
    }),
    previous: view.previous
      ? {
          version: view.previous.version,
          status: view.previous.status,
          sourceSessionId: view.previous.sourceSessionId,
          createdAt: ageOf(view.previous.createdAt),
        }
      : null,
    activeStrategy: view.activeStrategy,
    reason: view.reason,
    reasonText: view.reason ? FALLBACK_REASON_TEXT[view.reason] : null,
    reasonDetail: view.reasonDetail,
    simulated: runtime.simulated,
  };
}

export function poolView(status: PoolStatus) {
  return {
    target: status.target,
    ready: status.ready,
    provisioning: status.provisioning,
    failing: status.failing,
    lastFailure: status.lastFailure,
    retryAt: status.retryAt !== null && Number.isFinite(status.retryAt) ? new Date(status.retryAt).toISOString() : null,
    reason: status.reason,
    members: status.members.map((m) => ({ sessionId: m.sessionId, status: m.status, goldenVersion: m.goldenVersion })),
  };
}

export function accountView(account: Account & { activeSessions?: number }) {
  return {
    id: account.id,
    username: account.username,
    email: account.email,
    role: account.role,
    disabled: account.disabled,
    createdAt: new Date(account.createdAt).toISOString(),
    activeSessions: account.activeSessions ?? null,
  };
}
