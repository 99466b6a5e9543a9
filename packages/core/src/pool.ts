import { LimitError } from './errors';
import { newSessionRecords } from './new-session';
import type { IdSource, Store } from './ports';
import type { StrategyDecision } from './strategy';
import { LIVE_SESSION_STATUSES, type Run, type SessionStatus } from './types';

/** An unclaimed pool member as the reconciler sees it. */
export interface PoolMember {
  sessionId: string;
  status: SessionStatus;
  /** The golden version its run clones (or cloned) from. */
  goldenVersion: number | null;
  createdAt: number;
}

export interface PoolInputs {
  target: number;
  members: readonly PoolMember[];
  /** What a new session would use right now: the pool only ever clones the active golden image. */
  decision: StrategyDecision;
  /** Every active session, pool members included (the pool must fit under the limit). */
  activeSessions: number;
  maxConcurrentSessions: number;
  now: number;
  /** No new member before this time (backoff after failures). */
  retryAt: number | null;
}

export interface PoolPlan {
  /** How many members to start now. */
  create: number;
  /** Members to delete, with why. */
  retire: Array<{ sessionId: string; why: string }>;
  /** Why the pool is below its target, in plain words; null when nothing holds it back. */
  reason: string | null;
}

/**
 * The pool's rules as one pure decision from its current state: members cloned from anything but the
 * usable golden image go (never a claimed session: claimed ones are no longer members), members
 * beyond the target go (those still provisioning first), and new ones fill the gap as far as the
 * concurrency limit and the failure backoff allow. It never asks for a bootstrap.
 */
export function planPool(input: PoolInputs): PoolPlan {
  const golden = input.decision.golden;
  const live = input.members.filter((m) => LIVE_SESSION_STATUSES.includes(m.status));
  const retire: PoolPlan['retire'] = [];
  const current: PoolMember[] = [];
  for (const member of live) {
    if (golden && member.goldenVersion === golden.version) current.push(member);
    else
      retire.push({
        sessionId: member.sessionId,
        why: golden ? `built from golden image v${member.goldenVersion ?? '?'}, now v${golden.version}` : 'no usable golden image',
      });
  }
  // Ready members are worth more than ones still provisioning; among equals the newest go first.
  const keepOrder = [...current].sort(
    (a, b) => Number(b.status === 'running') - Number(a.status === 'running') || a.createdAt - b.createdAt,
  );
  const target = Math.max(0, input.target);
  for (const extra of keepOrder.slice(target)) retire.push({ sessionId: extra.sessionId, why: `pool resized to ${target}` });
  const kept = Math.min(current.length, target);
  const missing = target - kept;
  if (missing === 0) return { create: 0, retire, reason: null };
  if (!golden) return { create: 0, retire, reason: `the pool never bootstraps: ${input.decision.detail}` };
  if (input.retryAt !== null && input.now < input.retryAt) {
    const when = Number.isFinite(input.retryAt) ? `the next try is at ${new Date(input.retryAt).toISOString()}` : 'it is being removed';
    return { create: 0, retire, reason: `a member failed; ${when}` };
  }
  const free = Math.max(0, input.maxConcurrentSessions - input.activeSessions);
  const create = Math.min(missing, free);
  return {
    create,
    retire,
    reason: create < missing ? `the limit of ${input.maxConcurrentSessions} concurrent sessions leaves room for ${create} more` : null,
  };
}

/** Wait before the next member after `failures` consecutive failures: doubling, at most 32x. */
export function poolBackoff(baseMs: number, failures: number): number {
  return failures <= 0 ? 0 : baseMs * 2 ** Math.min(failures - 1, 5);
}

/** The unclaimed members, with the golden version each clones from. */
export async function poolMembers(store: Store): Promise<PoolMember[]> {
  const sessions = (await store.listSessions({ activeOnly: true })).filter((s) => s.pool);
  return Promise.all(
    sessions.map(async (s) => ({
      sessionId: s.id,
      status: s.status,
      goldenVersion: s.runId ? ((await store.getRun(s.runId))?.goldenVersion ?? null) : null,
      createdAt: s.createdAt,
    })),
  );
}

/**
 * Records a new member and its run (a snapshot run from `goldenVersion` that never falls back). It
 * lives as long as the golden image it is cloned from; a claim gives it a learner's TTL.
 */
export async function insertPoolMember(
  deps: { store: Store; ids: IdSource; maxConcurrentSessions: number },
  golden: { version: number; expiresAt: number },
  now: number,
): Promise<Run> {
  const { session, run } = newSessionRecords(deps.ids, now, {
    expiresAt: golden.expiresAt,
    ownerId: null,
    strategy: 'snapshot',
    fallbackReason: null,
    fallbackDetail: null,
    goldenVersion: golden.version,
    pool: true,
  });
  if (!(await deps.store.insertSessionWithinLimit(session, deps.maxConcurrentSessions))) {
    throw new LimitError('no room for a pool member under the concurrency limit');
  }
  await deps.store.insertRun(run);
  return run;
}
