import type { LabConfig } from './config';
import { ConflictError, errorMessage, LimitError, ValidationError } from './errors';
import { LabEvents } from './events';
import {
  cleanUpFailedBuildLogged,
  collectGoldenGarbage,
  executeGoldenBuild,
  pendingGoldenCleanups,
  retireActiveGolden,
  startGoldenBuild,
} from './golden-image';
import { buildHaltingSession } from './golden-source';
import { insertPoolMember, type PoolMember, planPool, poolBackoff, poolMembers } from './pool';
import type { Clock, ClusterPort, IdSource, Logger, OrchestrationDeps, Store } from './ports';
import { executeRun, SESSION_ENDED_DURING_PROVISIONING } from './provisioning';
import { type ReconcileReport, reconcileRecords } from './reconcile-records';
import { retryUntil } from './retry';
import {
  createSession,
  decideStrategy,
  extendSession,
  newestGolden,
  ownerLimit,
  requireAccessibleSession,
  requireSession,
  sessionToResume,
  visibleSessions,
} from './sessions';
import {
  type Actor,
  type ClusterObjectSummary,
  type FallbackReason,
  type GoldenDiskState,
  type GoldenImage,
  type Preflight,
  type Run,
  type Session,
  type Step,
  type Strategy,
  SYSTEM_ACTOR,
} from './types';

export interface LabDeps {
  cluster: ClusterPort;
  store: Store;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  config: LabConfig;
}

export interface SessionDetail {
  session: Session;
  run: Run | null;
  steps: Step[];
  timeToReadyMs: number | null;
}

export interface GoldenStatusView {
  status: 'none' | 'building' | 'ready' | 'failed' | 'deleting';
  /** The image the status talks about: the build in progress, else the active one, else the last failed. */
  image: GoldenImage | null;
  /** With no image to talk about: the last one, when it was deleted (rather than never built). */
  deleted: GoldenImage | null;
  disks: GoldenDiskState[];
  /** The active image while a new one builds, or a superseded one still kept for running clones. */
  previous: GoldenImage | null;
  activeStrategy: Strategy;
  reason: FallbackReason | null;
  reasonDetail: string;
}

export interface PoolStatus {
  target: number;
  /** Unclaimed members ready to be claimed. */
  ready: number;
  provisioning: number;
  /** Consecutive failed members (0 once one succeeds). */
  failing: number;
  lastFailure: string | null;
  /** No new member before this time, after failures. */
  retryAt: number | null;
  /** Why the pool is below its target, in plain words. */
  reason: string | null;
  members: PoolMember[];
}

/**
 * The orchestrator: the one entry point the web app calls. It owns background work (runs, golden
 * builds, the reaper), resumes unfinished work on start, and announces every change on `events`.
 */
export class Lab {
  readonly events = new LabEvents();
  private readonly inflight = new Map<string, { done: Promise<unknown>; abort: AbortController }>();
  private goldenBuild: Promise<unknown> | null = null;
  private stopped = false;
  private maintenance: Promise<void> | null = null;
  private readonly pool: { target: number; failures: number; lastFailure: string | null; retryAt: number | null };
  private poolPass: Promise<void> | null = null;
  private poolAgain = false;
  /** Pool members whose run is executing here (a failed one is still cleaning up until it ends). */
  private readonly poolRuns = new Set<string>();

  constructor(private readonly deps: LabDeps) {
    this.pool = { target: deps.config.warmPoolSize, failures: 0, lastFailure: null, retryAt: null };
  }

  get mode(): ClusterPort['mode'] {
    return this.deps.cluster.mode;
  }

  get config(): LabConfig {
    return this.deps.config;
  }

  preflight(): Promise<Preflight> {
    return this.read('preflight', () => this.deps.cluster.preflight());
  }

  /** Resumes every unfinished run, golden build and deletion, then starts the reaper loop. */
  async start(options: { maintenanceIntervalMs?: number } = {}): Promise<void> {
    const { store, logger } = this.deps;
    // First: a run whose objects vanished is marked failed here instead of being resumed (rebuilt).
    await this.reconcile().catch((error: unknown) =>
      logger.error({ error: errorMessage(error) }, 'reconciling the database with the cluster failed; the next maintenance pass retries'),
    );
    for (const run of await store.unfinishedRuns()) {
      const session = await store.getSession(run.sessionId);
      if (session?.status === 'terminating') continue;
      logger.info({ runId: run.id, sessionId: run.sessionId }, 'resuming unfinished provisioning run');
      this.launchRun(run);
    }
    for (const image of await store.listGolden(['building', 'ready'])) {
      if (image.status === 'ready' && image.phase === 'done') continue;
      logger.info({ goldenVersion: image.version, phase: image.phase }, 'resuming golden image build');
      this.launchGolden(image);
    }
    await this.resumeGoldenCleanups();
    await this.resumeDeletions();
    if (options.maintenanceIntervalMs) this.maintenance = this.maintain(options.maintenanceIntervalMs);
    this.nudgePool();
  }

  /** Stops the reaper and waits for background work (tests and graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
    await this.maintenance;
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.goldenBuild || this.poolPass) {
      await Promise.allSettled([...[...this.inflight.values()].map((w) => w.done), this.goldenBuild, this.poolPass]);
    }
  }

  // Sessions. The actor decides what is visible (core/sessions.ts); internal callers act as the system.

  /** A ready pool member when there is one, else a new session; a full pool gives way to it. */
  async createSession(actor: Actor = SYSTEM_ACTOR): Promise<Session> {
    const clickedAt = this.deps.clock.now();
    const claimed = await this.claimFromPool(actor, clickedAt);
    if (claimed) return claimed;
    const deps = { ...this.deps, events: this.events };
    const { session, run } = await createSession(deps, actor).catch(async (error: unknown) => {
      if (!(error instanceof LimitError) || !(await this.evictPoolMemberForLearner())) throw error;
      return createSession(deps, actor);
    });
    this.launchRun(run);
    return session;
  }

  /** Start for a learner who may already be at their limit: then their newest active session is `resumed`. */
  async startSession(actor: Actor): Promise<{ session: Session; resumed: boolean }> {
    const existing = await sessionToResume(this.deps, actor);
    if (existing) return { session: existing, resumed: true };
    return { session: await this.createSession(actor), resumed: false };
  }

  async listSessions(options?: { includeEnded?: boolean }, actor: Actor = SYSTEM_ACTOR): Promise<Session[]> {
    return this.deps.store.listSessions(visibleSessions(actor, options));
  }

  /** Sessions with their time-to-ready, for lists. */
  async listSessionSummaries(
    options?: { includeEnded?: boolean },
    actor: Actor = SYSTEM_ACTOR,
  ): Promise<Array<{ session: Session; timeToReadyMs: number | null }>> {
    const sessions = await this.listSessions(options, actor);
    return Promise.all(
      sessions.map(async (session) => {
        const run = session.runId ? await this.deps.store.getRun(session.runId) : null;
        return { session, timeToReadyMs: timeToReady(run) };
      }),
    );
  }

  async getSession(id: string, actor: Actor = SYSTEM_ACTOR): Promise<SessionDetail> {
    const session = await requireAccessibleSession(this.deps.store, actor, id);
    const run = session.runId ? await this.deps.store.getRun(session.runId) : null;
    const steps = run ? await this.deps.store.stepsOfRun(run.id) : [];
    return { session, run, steps, timeToReadyMs: timeToReady(run) };
  }

  /** Read from the cluster, never from the database. */
  async sessionObjects(id: string, actor: Actor = SYSTEM_ACTOR): Promise<ClusterObjectSummary[]> {
    await requireAccessibleSession(this.deps.store, actor, id);
    return this.read('read session objects', () => this.deps.cluster.sessionObjects(id));
  }

  /** Follows the session's objects as the cluster changes them (access checked first); call the result to stop. */
  async watchSessionObjects(id: string, actor: Actor, onChange: (objects: ClusterObjectSummary[]) => void): Promise<() => void> {
    await requireAccessibleSession(this.deps.store, actor, id);
    return this.deps.cluster.watchSessionObjects(id, onChange, (error) =>
      this.deps.logger.warn({ sessionId: id, error: errorMessage(error) }, 'session objects watch interrupted; it lists again'),
    );
  }

  /** The golden-image build halting this session's VMs right now, if any. */
  async buildHaltingSession(id: string, actor: Actor = SYSTEM_ACTOR): Promise<GoldenImage | null> {
    await requireAccessibleSession(this.deps.store, actor, id);
    return buildHaltingSession(await this.deps.store.listGolden(['building']), id);
  }

  async extendSession(id: string, actor: Actor = SYSTEM_ACTOR): Promise<Session> {
    return extendSession({ ...this.deps, events: this.events }, id, actor);
  }

  async deleteSession(id: string, actor: Actor = SYSTEM_ACTOR): Promise<Session> {
    const { store, clock } = this.deps;
    const session = await requireAccessibleSession(store, actor, id);
    if (session.status === 'terminated') return session;
    const building = await store.listGolden(['building']);
    if (building.some((image) => image.sourceSessionId === id)) {
      throw new ConflictError(`session ${id} is the source of the golden image being built; wait for the build to end`);
    }
    // The transition is the lock, in the database: only the call that makes it deletes the session.
    if (await store.beginTermination(id, clock.now())) {
      this.events.emit({ type: 'session', sessionId: id });
      this.inflight.get(id)?.abort.abort();
      this.deleteInBackground(id);
    }
    return requireSession(store, id);
  }

  /** Compares the records with cks-lab's objects in the cluster (reconcile-records.ts); `graceMs` for tests and operators. */
  async reconcile(graceMs?: number): Promise<ReconcileReport> {
    const report = await reconcileRecords(this.goldenDeps(), graceMs);
    if (report.removed.length > 0 || report.vanished.length > 0) this.nudgePool();
    return report;
  }

  // Golden image

  async createGolden(sessionId: string, replace = false): Promise<GoldenImage> {
    const image = await startGoldenBuild(this.goldenDeps(), sessionId, replace);
    this.launchGolden(image);
    return image;
  }

  async deleteGolden(): Promise<GoldenImage> {
    const image = await retireActiveGolden(this.goldenDeps());
    await this.collectGarbage();
    this.nudgePool();
    return image;
  }

  async goldenStatus(): Promise<GoldenStatusView> {
    const { store, cluster } = this.deps;
    const [building, active, latest, kept] = await Promise.all([
      store.listGolden(['building']),
      store.activeGolden(),
      newestGolden(store),
      store.listGolden(['superseded', 'deleting']),
    ]);
    const current = building[0] ?? active ?? (latest?.status === 'failed' || latest?.status === 'deleting' ? latest : null);
    const status: GoldenStatusView['status'] = current
      ? current.status === 'building' || current.status === 'ready' || current.status === 'failed' || current.status === 'deleting'
        ? current.status
        : 'none'
      : 'none';
    const disks = current ? await this.read('read golden disks', () => cluster.goldenDiskStates(current.version)) : [];
    const previous = building[0] ? active : (kept.find((image) => image.version !== current?.version) ?? null);
    const decision = await decideStrategy(this.deps);
    return {
      status,
      image: current,
      deleted: !current && latest?.status === 'deleted' ? latest : null,
      disks,
      previous,
      activeStrategy: decision.strategy,
      reason: decision.reason,
      reasonDetail: decision.detail,
    };
  }

  // Warm pool

  async poolStatus(): Promise<PoolStatus> {
    const { members, plan } = await this.planPool();
    const golden = plan.golden;
    const current = members.filter((m) => golden !== null && m.goldenVersion === golden);
    return {
      target: this.pool.target,
      ready: current.filter((m) => m.status === 'running').length,
      provisioning: current.filter((m) => m.status === 'pending' || m.status === 'provisioning').length,
      failing: this.pool.failures,
      lastFailure: this.pool.lastFailure,
      retryAt: this.pool.retryAt,
      reason: plan.reason,
      members,
    };
  }

  /** Until the next restart, which starts again from WARM_POOL_SIZE. */
  async resizePool(target: number): Promise<PoolStatus> {
    if (!Number.isInteger(target) || target < 0) throw new ValidationError('the pool size is a whole number ≥ 0');
    this.pool.target = target;
    this.deps.logger.info({ target }, 'warm pool resized');
    this.nudgePool();
    return this.poolStatus();
  }

  private async claimFromPool(actor: Actor, clickedAt: number): Promise<Session | null> {
    const { store, clock, ids, config } = this.deps;
    if (this.pool.target === 0) return null;
    const golden = await store.activeGolden();
    if (!golden) return null;
    const claimedAt = clock.now();
    const session = await store.claimPoolMember({
      goldenVersion: golden.version,
      ownerId: actor.userId,
      ownerLimit: ownerLimit(actor, config) ?? undefined,
      expiresAt: claimedAt + config.sessionTtlMs,
      run: {
        id: ids.runId(),
        requestedStrategy: 'warm',
        usedStrategy: 'warm',
        fallbackReason: null,
        fallbackDetail: null,
        goldenVersion: golden.version,
        startedAt: clickedAt,
        endedAt: claimedAt,
        outcome: 'succeeded',
        failureReason: null,
      },
    });
    if (!session) return null;
    this.deps.logger.info({ sessionId: session.id, ownerId: actor.userId }, 'warm pool member claimed');
    this.events.emit({ type: 'session', sessionId: session.id });
    this.nudgePool();
    return session;
  }

  /** At the global limit, an unclaimed member (one still provisioning first) makes room for a learner. */
  private async evictPoolMemberForLearner(): Promise<boolean> {
    const { store, config } = this.deps;
    if ((await store.countActiveSessions()) < config.maxConcurrentSessions) return false;
    const members = (await poolMembers(store))
      .filter((m) => m.status !== 'terminating')
      .sort((a, b) => Number(a.status === 'running') - Number(b.status === 'running') || b.createdAt - a.createdAt);
    for (const member of members) {
      if (await this.retirePoolMember(member.sessionId, 'making room for a learner')) return true;
    }
    return false;
  }

  private async retirePoolMember(sessionId: string, why: string): Promise<boolean> {
    if (!(await this.deps.store.retirePoolMember(sessionId, this.deps.clock.now()))) return false;
    this.deps.logger.info({ sessionId, why }, 'retiring warm pool member');
    this.events.emit({ type: 'session', sessionId });
    this.inflight.get(sessionId)?.abort.abort();
    this.deleteInBackground(sessionId);
    return true;
  }

  private async planPool() {
    const { store, clock, config } = this.deps;
    const [members, decision, activeSessions, cleaning] = await Promise.all([
      poolMembers(store),
      decideStrategy(this.deps),
      store.countActiveSessions(),
      this.failedPoolRunStillCleaning(),
    ]);
    const plan = planPool({
      target: this.pool.target,
      members,
      decision,
      activeSessions,
      maxConcurrentSessions: config.maxConcurrentSessions,
      now: clock.now(),
      // Its failure is counted when its cleanup ends; no replacement before then.
      retryAt: cleaning ? Infinity : this.pool.retryAt,
    });
    return { members, decision, plan: { ...plan, golden: decision.golden?.version ?? null } };
  }

  /** One reconciliation: retire what the rules say, start what is missing. */
  private async reconcilePool(): Promise<void> {
    const { store, clock, ids, config } = this.deps;
    // An empty pool that should stay empty needs no look at the cluster.
    if (this.pool.target === 0 && (await poolMembers(store)).length === 0) return;
    const { decision, plan } = await this.planPool();
    for (const { sessionId, why } of plan.retire) await this.retirePoolMember(sessionId, why);
    const golden = decision.golden;
    if (!golden) return;
    for (let i = 0; i < plan.create; i++) {
      const run = await insertPoolMember({ store, ids, maxConcurrentSessions: config.maxConcurrentSessions }, golden, clock.now());
      this.events.emit({ type: 'session', sessionId: run.sessionId });
      this.launchRun(run);
    }
  }

  /** Reconciles soon; passes never overlap, and a nudge during one makes another follow it. */
  private nudgePool(): void {
    if (this.stopped) return;
    if (this.poolPass) {
      this.poolAgain = true;
      return;
    }
    const pass = (async () => {
      do {
        this.poolAgain = false;
        await this.reconcilePool().catch((error: unknown) =>
          this.deps.logger.warn({ error: errorMessage(error) }, 'warm pool reconciliation will retry'),
        );
      } while (this.poolAgain && !this.stopped);
    })();
    this.poolPass = pass.finally(() => {
      this.poolPass = null;
    });
  }

  private async failedPoolRunStillCleaning(): Promise<boolean> {
    for (const sessionId of this.poolRuns) {
      if ((await this.deps.store.getSession(sessionId))?.status === 'failed') return true;
    }
    return false;
  }

  private recordPoolRun(run: Run, aborted: boolean): void {
    if (!run.pool || aborted) return;
    if (run.outcome === 'succeeded') {
      this.pool.failures = 0;
      this.pool.retryAt = null;
    } else if (run.outcome === 'failed') {
      this.pool.failures += 1;
      this.pool.lastFailure = run.failureReason;
      this.pool.retryAt = (run.endedAt ?? this.deps.clock.now()) + poolBackoff(this.deps.config.poolBackoffMs, this.pool.failures);
      this.deps.logger.warn(
        { sessionId: run.sessionId, failures: this.pool.failures, error: run.failureReason },
        'warm pool member failed',
      );
    }
  }

  // Background work

  /** One reaper pass: expired sessions are deleted, unused golden versions collected. */
  async maintainOnce(): Promise<void> {
    const { store, clock } = this.deps;
    for (const session of await store.expiredSessions(clock.now())) {
      this.deps.logger.info({ sessionId: session.id }, 'session expired; deleting');
      await this.deleteSession(session.id).catch((error: unknown) =>
        this.deps.logger.warn({ sessionId: session.id, error: errorMessage(error) }, 'expired session not deleted yet'),
      );
    }
    await this.reconcile().catch((error: unknown) =>
      this.deps.logger.warn({ error: errorMessage(error) }, 'reconciling the database with the cluster will retry'),
    );
    await this.collectGarbage();
    // A build in progress cleans up after itself when it fails; only cleanups cut short wait here.
    if (!this.goldenBuild) await this.resumeGoldenCleanups();
    // Only deletions past their deadline: a live one may belong to another process on the same database.
    await this.resumeDeletions(clock.now() - this.deps.config.deadlines.deleteSession);
    this.nudgePool();
  }

  /** Deletions of sessions left terminating (since `before` or earlier) by a crash or a failed attempt. */
  private async resumeDeletions(before = Infinity): Promise<void> {
    for (const session of await this.deps.store.listSessions()) {
      if (session.status === 'terminating' && session.updatedAt <= before) this.deleteInBackground(session.id);
    }
  }

  private deleteInBackground(id: string): void {
    this.track(`delete:${id}`, () => this.finishDeletion(id));
  }

  private async resumeGoldenCleanups(): Promise<void> {
    for (const image of await pendingGoldenCleanups(this.deps.store)) {
      this.deps.logger.info({ goldenVersion: image.version }, 'resuming the cleanup of a failed golden build');
      this.track(`golden-cleanup:${image.version}`, () => cleanUpFailedBuildLogged(this.goldenDeps(), image));
    }
  }

  private async collectGarbage(): Promise<void> {
    await collectGoldenGarbage(this.goldenDeps()).catch((error: unknown) =>
      this.deps.logger.warn({ error: errorMessage(error) }, 'golden garbage collection will retry'),
    );
  }

  private async maintain(intervalMs: number): Promise<void> {
    while (!this.stopped) {
      await this.maintainOnce().catch((error: unknown) =>
        this.deps.logger.error({ error: errorMessage(error) }, 'maintenance pass failed'),
      );
      await this.deps.clock.sleep(intervalMs);
    }
  }

  private launchRun(run: Run): void {
    if (this.inflight.has(run.sessionId)) return;
    const abort = new AbortController();
    if (run.pool) this.poolRuns.add(run.sessionId);
    const done = executeRun({ ...this.deps, events: this.events }, run, abort.signal)
      .then((ended) => this.recordPoolRun(ended, abort.signal.aborted))
      .catch((error: unknown) => this.deps.logger.error({ runId: run.id, error: errorMessage(error) }, 'run crashed'))
      .finally(() => {
        this.inflight.delete(run.sessionId);
        this.poolRuns.delete(run.sessionId);
        this.nudgePool();
      });
    this.inflight.set(run.sessionId, { done, abort });
  }

  private launchGolden(image: GoldenImage): void {
    const done = executeGoldenBuild(this.goldenDeps(), image)
      .then(() => this.collectGarbage())
      .then(() => this.nudgePool())
      .catch((error: unknown) => this.deps.logger.error({ goldenVersion: image.version, error: errorMessage(error) }, 'build crashed'))
      .finally(() => {
        if (this.goldenBuild === done) this.goldenBuild = null;
      });
    this.goldenBuild = done;
  }

  /** Starts `work` unless work under the same key is in flight here (single-flight). */
  private track(key: string, work: () => Promise<unknown>): void {
    if (this.inflight.has(key)) return;
    const done = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, { done, abort: new AbortController() });
  }

  private async finishDeletion(id: string): Promise<void> {
    const { store, cluster, clock, config, logger } = this.deps;
    await this.inflight.get(id)?.done;
    try {
      await retryUntil(clock, clock.now() + config.deadlines.deleteSession, 'delete session', config.retryBackoffMs, (at) =>
        cluster.deleteSession(id, at),
      );
      const session = await store.getSession(id);
      if (session?.runId) {
        const run = await store.getRun(session.runId);
        if (run?.outcome === 'running') {
          await store.updateRun(run.id, { outcome: 'cancelled', endedAt: clock.now(), failureReason: SESSION_ENDED_DURING_PROVISIONING });
        }
      }
      await store.updateSession(id, { status: 'terminated', updatedAt: clock.now() });
      logger.info({ sessionId: id }, 'session deleted');
    } catch (error) {
      logger.error({ sessionId: id, error: errorMessage(error) }, 'session deletion incomplete; the next start resumes it');
    }
    this.events.emit({ type: 'session', sessionId: id });
    this.nudgePool();
  }

  /** Cluster reads for the API retry transient errors briefly, like the steps do. */
  private read<T>(label: string, work: () => Promise<T>): Promise<T> {
    const { clock, config } = this.deps;
    return retryUntil(clock, clock.now() + config.deadlines.prepareNamespace, label, config.retryBackoffMs, work);
  }

  private goldenDeps(): OrchestrationDeps {
    return { ...this.deps, events: this.events };
  }
}

function timeToReady(run: Run | null): number | null {
  return run?.outcome === 'succeeded' && run.endedAt !== null ? run.endedAt - run.startedAt : null;
}
