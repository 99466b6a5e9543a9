import type { LabConfig } from './config';
import { ConflictError, errorMessage } from './errors';
import { LabEvents } from './events';
import {
  collectGoldenGarbage,
  executeGoldenBuild,
  retireActiveGolden,
  startGoldenBuild,
} from './golden-image';
import type { ClusterPort, Clock, IdSource, Logger, OrchestrationDeps, Store } from './ports';
import { executeRun } from './provisioning';
import { retryUntil } from './retry';
import { createSession, decideStrategy, extendSession, requireAccessibleSession, sessionToResume, visibleSessions } from './sessions';
import {
  SYSTEM_ACTOR,
  type Actor,
  type ClusterObjectSummary,
  type FallbackReason,
  type Preflight,
  type GoldenDiskState,
  type GoldenImage,
  type Run,
  type Session,
  type Step,
  type Strategy,
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
  disks: GoldenDiskState[];
  /** The active image while a new one builds, or a superseded one still kept for running clones. */
  previous: GoldenImage | null;
  activeStrategy: Strategy;
  reason: FallbackReason | null;
  reasonDetail: string;
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

  constructor(private readonly deps: LabDeps) {}

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
    for (const session of await store.listSessions()) {
      if (session.status === 'terminating') this.track(`delete:${session.id}`, this.finishDeletion(session.id));
    }
    if (options.maintenanceIntervalMs) this.maintenance = this.maintain(options.maintenanceIntervalMs);
  }

  /** Stops the reaper and waits for background work (tests and graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
    await this.maintenance;
  }

  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.goldenBuild) {
      await Promise.allSettled([...[...this.inflight.values()].map((w) => w.done), this.goldenBuild]);
    }
  }

  // Sessions. The actor decides what is visible (core/sessions.ts); internal callers act as the system.

  async createSession(actor: Actor = SYSTEM_ACTOR): Promise<Session> {
    const { session, run } = await createSession({ ...this.deps, events: this.events }, actor);
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
    const updated = await store.updateSession(id, { status: 'terminating', updatedAt: clock.now() });
    this.events.emit({ type: 'session', sessionId: id });
    this.inflight.get(id)?.abort.abort();
    this.track(`delete:${id}`, this.finishDeletion(id));
    return updated;
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
    return image;
  }

  async goldenStatus(): Promise<GoldenStatusView> {
    const { store, cluster } = this.deps;
    const [building, active, latest, kept] = await Promise.all([
      store.listGolden(['building']),
      store.activeGolden(),
      store.latestGolden(),
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
      disks,
      previous,
      activeStrategy: decision.strategy,
      reason: decision.reason,
      reasonDetail: decision.detail,
    };
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
    await this.collectGarbage();
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
    const done = executeRun({ ...this.deps, events: this.events }, run, abort.signal)
      .catch((error: unknown) => this.deps.logger.error({ runId: run.id, error: errorMessage(error) }, 'run crashed'))
      .finally(() => this.inflight.delete(run.sessionId));
    this.inflight.set(run.sessionId, { done, abort });
  }

  private launchGolden(image: GoldenImage): void {
    const done = executeGoldenBuild(this.goldenDeps(), image)
      .then(() => this.collectGarbage())
      .catch((error: unknown) => this.deps.logger.error({ goldenVersion: image.version, error: errorMessage(error) }, 'build crashed'))
      .finally(() => {
        if (this.goldenBuild === done) this.goldenBuild = null;
      });
    this.goldenBuild = done;
  }

  private track(key: string, work: Promise<unknown>): void {
    if (this.inflight.has(key)) return;
    const done = work.finally(() => this.inflight.delete(key));
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
          await store.updateRun(run.id, { outcome: 'failed', endedAt: clock.now(), failureReason: 'session deleted during provisioning' });
        }
      }
      await store.updateSession(id, { status: 'terminated', updatedAt: clock.now() });
      logger.info({ sessionId: id }, 'session deleted');
    } catch (error) {
      logger.error({ sessionId: id, error: errorMessage(error) }, 'session deletion incomplete; the next start resumes it');
    }
    this.events.emit({ type: 'session', sessionId: id });
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
