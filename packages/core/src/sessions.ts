import type { LabConfig } from './config';
import { LimitError, NotFoundError, PreconditionError } from './errors';
import type { LabEvents } from './events';
import { extendedExpiry, extensionRoom } from './extension';
import { assertSessionId as assertId } from './naming';
import { newSessionRecords } from './new-session';
import type { Clock, ClusterPort, IdSource, SessionQuery, Store } from './ports';
import { retryUntil } from './retry';
import { type StrategyDecision, selectStrategy } from './strategy';
import { type Actor, type GoldenImage, LIVE_SESSION_STATUSES, type Run, type Session, SYSTEM_ACTOR } from './types';

export interface SessionDeps {
  cluster: ClusterPort;
  store: Store;
  clock: Clock;
  ids: IdSource;
  config: LabConfig;
  events: LabEvents;
}

/** Decides the strategy from the active golden image and what the cluster says about it right now. */
export async function decideStrategy(deps: Pick<SessionDeps, 'cluster' | 'store' | 'clock' | 'config'>): Promise<StrategyDecision> {
  const { cluster, store, clock, config } = deps;
  const [golden, newest] = await Promise.all([store.activeGolden(), newestGolden(store)]);
  // Transient API errors while reading the cluster are retried briefly, as in every step.
  const { preflight, goldenDisks } = await retryUntil(
    clock,
    clock.now() + config.deadlines.prepareNamespace,
    'decide strategy',
    config.retryBackoffMs,
    async () => ({
      preflight: await cluster.preflight(),
      goldenDisks: golden ? await cluster.goldenDiskStates(golden.version) : [],
    }),
  );
  return selectStrategy({ golden, newest, goldenDisks, preflight, k8sVersion: config.k8sVersion, now: clock.now() });
}

const GOLDEN_STATUSES: readonly GoldenImage['status'][] = ['building', 'ready', 'failed', 'superseded', 'deleting', 'deleted'];

/** The newest golden image record whatever its status (deleted ones too: they say why there is none). */
export async function newestGolden(store: Pick<Store, 'listGolden'>): Promise<GoldenImage | null> {
  return (await store.listGolden(GOLDEN_STATUSES))[0] ?? null;
}

// Ownership: a learner sees and acts on their own sessions only; admins on all of them.

export function canAccessSession(actor: Actor, session: Session): boolean {
  return actor.role === 'admin' || session.ownerId === actor.userId;
}

/** The sessions an actor may list: a learner's own, or every session for an admin. */
export function visibleSessions(actor: Actor, query: SessionQuery = {}): SessionQuery {
  return actor.role === 'admin' ? query : { ...query, ownerId: actor.userId };
}

/** How many active sessions the actor may own at once; null when only the global limit applies. */
export function ownerLimit(actor: Actor, config: Pick<LabConfig, 'sessionsPerLearner'>): number | null {
  return actor.role === 'learner' ? config.sessionsPerLearner : null;
}

/** The session when the actor may access it; another learner's session answers as not found, never as forbidden. */
export async function requireAccessibleSession(store: Store, actor: Actor, id: string): Promise<Session> {
  const session = await requireSession(store, id);
  if (!canAccessSession(actor, session)) throw new NotFoundError(`session ${id} does not exist`);
  return session;
}

/**
 * The learner's newest active session when they are at their own limit: pressing start again
 * takes them back to it instead of failing.
 */
export async function sessionToResume(deps: Pick<SessionDeps, 'store' | 'config'>, actor: Actor): Promise<Session | null> {
  const limit = ownerLimit(actor, deps.config);
  if (limit === null || actor.userId === null) return null;
  const active = await deps.store.listSessions({ ownerId: actor.userId, activeOnly: true });
  return active.length >= limit ? (active[0] ?? null) : null;
}

/** Creates a session and its run record (status pending); provisioning is started by the caller. */
export async function createSession(deps: SessionDeps, actor: Actor = SYSTEM_ACTOR): Promise<{ session: Session; run: Run }> {
  const { store, clock, ids, config } = deps;
  const now = clock.now();
  const decision = await decideStrategy(deps);
  const { session, run } = newSessionRecords(ids, now, {
    expiresAt: now + config.sessionTtlMs,
    ownerId: actor.userId,
    strategy: decision.strategy,
    fallbackReason: decision.reason,
    fallbackDetail: decision.strategy === 'bootstrap' ? decision.detail : null,
    goldenVersion: decision.golden?.version ?? null,
  });
  const perOwner = ownerLimit(actor, config);
  if (!(await store.insertSessionWithinLimit(session, config.maxConcurrentSessions, perOwner ?? undefined))) {
    const own = perOwner === null ? [] : await store.listSessions({ ownerId: actor.userId ?? undefined, activeOnly: true });
    throw new LimitError(
      perOwner !== null && own.length >= perOwner
        ? `you already have ${own.length} active session${own.length === 1 ? '' : 's'} (at most ${perOwner}); end one first`
        : `the limit of ${config.maxConcurrentSessions} concurrent sessions is reached; end a session or wait for one to expire`,
    );
  }
  await store.insertRun(run);
  deps.events.emit({ type: 'session', sessionId: session.id });
  return { session, run };
}

export async function requireSession(store: Store, id: string): Promise<Session> {
  assertId(id);
  const session = await store.getSession(id);
  if (!session) throw new NotFoundError(`session ${id} does not exist`);
  return session;
}

/** Extends the expiry by one TTL from now or from the current expiry, within the cap (extension.ts); refused at the cap. */
export async function extendSession(
  deps: Pick<SessionDeps, 'store' | 'clock' | 'config' | 'events'>,
  id: string,
  actor: Actor = SYSTEM_ACTOR,
): Promise<Session> {
  const session = await requireAccessibleSession(deps.store, actor, id);
  if (!LIVE_SESSION_STATUSES.includes(session.status)) {
    throw new PreconditionError(`session ${id} is ${session.status} and cannot be extended`);
  }
  const now = deps.clock.now();
  const ttl = deps.config.sessionTtlMs;
  const room = extensionRoom(session.expiresAt, now, ttl);
  if (!room.allowed) {
    throw new PreconditionError(
      `session ${id} already runs until the limit of ${Math.round(room.capMs / 60_000)} min ahead; it can be extended again in ${Math.ceil(room.waitMs / 60_000)} min`,
    );
  }
  const expiresAt = extendedExpiry(session.expiresAt, now, ttl);
  const updated = await deps.store.updateSession(id, { expiresAt, updatedAt: now });
  deps.events.emit({ type: 'session', sessionId: session.id });
  return updated;
}
