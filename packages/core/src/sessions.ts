import type { LabConfig } from './config';
import { LimitError, NotFoundError, PreconditionError } from './errors';
import { assertSessionId as assertId } from './naming';
import type { LabEvents } from './events';
import { names } from './naming';
import { retryUntil } from './retry';
import type { ClusterPort, Clock, IdSource, Store } from './ports';
import { selectStrategy, type StrategyDecision } from './strategy';
import type { Run, Session } from './types';

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
  const golden = await store.activeGolden();
  // Transient API errors while reading the cluster are retried briefly, as in every step.
  const { preflight, goldenDisks } = await retryUntil(clock, clock.now() + config.deadlines.prepareNamespace, 'decide strategy', config.retryBackoffMs, async () => ({
    preflight: await cluster.preflight(),
    goldenDisks: golden ? await cluster.goldenDiskStates(golden.version) : [],
  }));
  return selectStrategy({ golden, goldenDisks, preflight, k8sVersion: config.k8sVersion, now: clock.now() });
}

/** Creates a session and its run record (status pending); provisioning is started by the caller. */
export async function createSession(deps: SessionDeps): Promise<{ session: Session; run: Run }> {
  const { store, clock, ids, config } = deps;
  const now = clock.now();
  const id = ids.sessionId();
  const decision = await decideStrategy(deps);
  const runId = ids.runId();
  const session: Session = {
    id,
    namespace: names.namespace(id),
    status: 'pending',
    createdAt: now,
    updatedAt: now,
    expiresAt: now + config.sessionTtlMs,
    strategy: decision.strategy,
    failureReason: null,
    runId,
  };
  if (!(await store.insertSessionWithinLimit(session, config.maxConcurrentSessions))) {
    throw new LimitError(
      `the limit of ${config.maxConcurrentSessions} concurrent sessions is reached; end a session or wait for one to expire`,
    );
  }
  const run: Run = {
    id: runId,
    sessionId: id,
    requestedStrategy: decision.strategy,
    usedStrategy: decision.strategy,
    fallbackReason: decision.reason,
    fallbackDetail: decision.strategy === 'bootstrap' ? decision.detail : null,
    goldenVersion: decision.golden?.version ?? null,
    startedAt: now,
    endedAt: null,
    outcome: 'running',
    failureReason: null,
    synthetic: false,
  };
  await store.insertRun(run);
  deps.events.emit({ type: 'session', sessionId: id });
  return { session, run };
}

export async function requireSession(store: Store, id: string): Promise<Session> {
  assertId(id);
  const session = await store.getSession(id);
  if (!session) throw new NotFoundError(`session ${id} does not exist`);
  return session;
}

/** Extends the expiry by one TTL from now or from the current expiry, capped at three TTLs ahead. */
export async function extendSession(deps: Pick<SessionDeps, 'store' | 'clock' | 'config' | 'events'>, id: string): Promise<Session> {
  const session = await requireSession(deps.store, id);
  if (session.status === 'terminating' || session.status === 'terminated' || session.status === 'failed') {
    throw new PreconditionError(`session ${id} is ${session.status} and cannot be extended`);
  }
  const now = deps.clock.now();
  const ttl = deps.config.sessionTtlMs;
  const expiresAt = Math.min(Math.max(session.expiresAt, now) + ttl, now + 3 * ttl);
  const updated = await deps.store.updateSession(id, { expiresAt, updatedAt: now });
  deps.events.emit({ type: 'session', sessionId: id });
  return updated;
}
