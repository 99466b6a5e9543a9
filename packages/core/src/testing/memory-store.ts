import { ConflictError, NotFoundError } from '../errors';
import type { PoolClaim, SessionQuery, Store } from '../ports';
import {
  ACTIVE_SESSION_STATUSES,
  ENDABLE_SESSION_STATUSES,
  type GoldenImage,
  LIVE_SESSION_STATUSES,
  type Run,
  type Session,
  type SessionStatus,
  type Step,
} from '../types';

/** Sessions that have ended: hidden from `listSessions()` unless `includeEnded`. */
export const ENDED_SESSION_STATUSES: readonly SessionStatus[] = ['terminated', 'failed'];

export interface MemoryStoreState {
  sessions: Session[];
  runs: Run[];
  steps: Step[];
  golden: GoldenImage[];
}

export type StoreMethod = keyof Store;

const copy = <T>(value: T): T => structuredClone(value);

/** Drops `undefined` values, as a database update ignores absent columns. */
function defined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const never = () => new Promise<never>(() => {});

/**
 * An in-memory `Store` with the documented semantics of the ports. Every method returns copies
 * (never internal references); every write is atomic (it runs synchronously once started).
 *
 * Test hooks: `freezeWhen` makes a write never complete, as if the process died during the
 * call (nothing of it is applied); `failWhen` makes a write throw. `snapshot()` copies the whole
 * database, e.g. to start a "restarted server" on it.
 */
export class MemoryStore implements Store {
  private readonly sessions = new Map<string, Session>();
  private readonly runs = new Map<string, Run>();
  private readonly steps = new Map<string, Step[]>();
  private readonly golden = new Map<number, GoldenImage>();

  freezeWhen: ((method: StoreMethod, args: readonly unknown[]) => boolean) | null = null;
  failWhen: ((method: StoreMethod, args: readonly unknown[]) => Error | null) | null = null;

  constructor(state?: MemoryStoreState) {
    if (!state) return;
    for (const s of state.sessions) this.sessions.set(s.id, copy(s));
    for (const r of state.runs) this.runs.set(r.id, copy(r));
    for (const s of state.steps) this.steps.set(s.runId, [...(this.steps.get(s.runId) ?? []), copy(s)]);
    for (const g of state.golden) this.golden.set(g.version, copy(g));
  }

  /** A deep copy of everything, sorted for stable assertions. */
  dump(): MemoryStoreState {
    return copy({
      sessions: [...this.sessions.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id)),
      runs: [...this.runs.values()].sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id)),
      steps: [...this.steps.values()].flat().sort((a, b) => a.runId.localeCompare(b.runId) || a.seq - b.seq),
      golden: [...this.golden.values()].sort((a, b) => a.version - b.version),
    });
  }

  /** An independent store holding a copy of this one's data (the database a restarted server opens). */
  snapshot(): MemoryStore {
    return new MemoryStore(this.dump());
  }

  private async write(method: StoreMethod, args: readonly unknown[]): Promise<void> {
    if (this.freezeWhen?.(method, args)) await never();
    const error = this.failWhen?.(method, args);
    if (error) throw error;
  }

  // Sessions

  async insertSessionWithinLimit(session: Session, limit: number, ownerLimit?: number): Promise<boolean> {
    await this.write('insertSessionWithinLimit', [session, limit, ownerLimit]);
    if (this.sessions.has(session.id)) throw new ConflictError(`session ${session.id} already exists`);
    if (this.countActive(undefined, true) >= limit) return false;
    if (ownerLimit !== undefined && this.countActive(session.ownerId ?? null) >= ownerLimit) return false;
    this.sessions.set(session.id, copy(session));
    return true;
  }

  async claimPoolMember(claim: PoolClaim): Promise<Session | null> {
    await this.write('claimPoolMember', [claim]);
    const member = [...this.sessions.values()]
      .filter((s) => s.pool && s.status === 'running' && s.runId && this.runs.get(s.runId)?.goldenVersion === claim.goldenVersion)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))[0];
    if (!member) return null;
    if (claim.ownerLimit !== undefined && this.countActive(claim.ownerId) >= claim.ownerLimit) return null;
    this.runs.set(claim.run.id, copy({ ...claim.run, sessionId: member.id }));
    Object.assign(member, {
      pool: false,
      ownerId: claim.ownerId,
      expiresAt: claim.expiresAt,
      updatedAt: claim.run.endedAt ?? claim.run.startedAt,
      strategy: 'warm',
      runId: claim.run.id,
    } satisfies Partial<Session>);
    return copy(member);
  }

  async retirePoolMember(id: string, now: number): Promise<boolean> {
    await this.write('retirePoolMember', [id, now]);
    const member = this.sessions.get(id);
    if (!member?.pool || !LIVE_SESSION_STATUSES.includes(member.status)) return false;
    Object.assign(member, { status: 'terminating', updatedAt: now } satisfies Partial<Session>);
    return true;
  }

  async beginTermination(id: string, now: number): Promise<boolean> {
    await this.write('beginTermination', [id, now]);
    const session = this.sessions.get(id);
    if (!session || !ENDABLE_SESSION_STATUSES.includes(session.status)) return false;
    Object.assign(session, { status: 'terminating', updatedAt: now } satisfies Partial<Session>);
    return true;
  }

  async getSession(id: string): Promise<Session | null> {
    const session = this.sessions.get(id);
    return session ? copy(session) : null;
  }

  async listSessions(options: SessionQuery = {}): Promise<Session[]> {
    return [...this.sessions.values()]
      .filter((s) => options.includeEnded || !ENDED_SESSION_STATUSES.includes(s.status))
      .filter((s) => options.ownerId === undefined || s.ownerId === options.ownerId)
      .filter((s) => !options.activeOnly || ACTIVE_SESSION_STATUSES.includes(s.status))
      .sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id))
      .map(copy);
  }

  async updateSession(id: string, patch: Partial<Omit<Session, 'id'>>): Promise<Session> {
    await this.write('updateSession', [id, patch]);
    const session = this.sessions.get(id);
    if (!session) throw new NotFoundError(`session ${id} does not exist`);
    Object.assign(session, defined(copy(patch)));
    return copy(session);
  }

  async countActiveSessions(): Promise<number> {
    return this.countActive();
  }

  async expiredSessions(now: number): Promise<Session[]> {
    return [...this.sessions.values()]
      .filter((s) => ENDABLE_SESSION_STATUSES.includes(s.status) && s.expiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .map(copy);
  }

  /** Active sessions, of one owner when given; `forLimit` leaves out pool members being deleted. */
  private countActive(ownerId?: string | null, forLimit = false): number {
    return [...this.sessions.values()].filter(
      (s) =>
        ACTIVE_SESSION_STATUSES.includes(s.status) &&
        (ownerId === undefined || (s.ownerId ?? null) === ownerId) &&
        !(forLimit && s.pool && s.status === 'terminating'),
    ).length;
  }

  // Runs and steps

  async insertRun(run: Run): Promise<void> {
    await this.write('insertRun', [run]);
    if (this.runs.has(run.id)) throw new ConflictError(`run ${run.id} already exists`);
    this.runs.set(run.id, copy(run));
  }

  async getRun(id: string): Promise<Run | null> {
    const run = this.runs.get(id);
    return run ? copy(run) : null;
  }

  async updateRun(id: string, patch: Partial<Omit<Run, 'id'>>): Promise<Run> {
    await this.write('updateRun', [id, patch]);
    const run = this.runs.get(id);
    if (!run) throw new NotFoundError(`run ${id} does not exist`);
    Object.assign(run, defined(copy(patch)));
    return copy(run);
  }

  async unfinishedRuns(): Promise<Run[]> {
    return [...this.runs.values()]
      .filter((r) => r.outcome === 'running')
      .sort((a, b) => a.startedAt - b.startedAt)
      .map(copy);
  }

  async countUnfinishedRunsOnGolden(version: number): Promise<number> {
    return [...this.runs.values()].filter((r) => r.goldenVersion === version && r.outcome === 'running').length;
  }

  async startStep(step: Step): Promise<void> {
    await this.write('startStep', [step]);
    if (!this.runs.has(step.runId)) throw new NotFoundError(`run ${step.runId} does not exist`);
    const steps = this.steps.get(step.runId) ?? [];
    if (steps.some((s) => s.seq === step.seq)) throw new ConflictError(`step ${step.runId}#${step.seq} already exists`);
    steps.push(copy(step));
    this.steps.set(step.runId, steps);
  }

  async finishStep(runId: string, seq: number, patch: Pick<Step, 'endedAt' | 'outcome' | 'detail'>): Promise<void> {
    await this.write('finishStep', [runId, seq, patch]);
    const step = this.steps.get(runId)?.find((s) => s.seq === seq);
    if (!step) throw new NotFoundError(`step ${runId}#${seq} does not exist`);
    Object.assign(step, defined(copy(patch)));
  }

  async stepsOfRun(runId: string): Promise<Step[]> {
    return [...(this.steps.get(runId) ?? [])].sort((a, b) => a.seq - b.seq).map(copy);
  }

  // Golden images

  async insertGoldenBuild(image: GoldenImage): Promise<void> {
    await this.write('insertGoldenBuild', [image]);
    const building = [...this.golden.values()].find((g) => g.status === 'building');
    if (building) throw new ConflictError(`golden image v${building.version} is being built; wait for it to finish`);
    if (this.golden.has(image.version)) throw new ConflictError(`golden image v${image.version} already exists`);
    this.golden.set(image.version, copy(image));
  }

  async getGolden(version: number): Promise<GoldenImage | null> {
    const image = this.golden.get(version);
    return image ? copy(image) : null;
  }

  async activeGolden(): Promise<GoldenImage | null> {
    const ready = [...this.golden.values()].filter((g) => g.status === 'ready').sort((a, b) => b.version - a.version);
    return ready[0] ? copy(ready[0]) : null;
  }

  async latestGolden(): Promise<GoldenImage | null> {
    const kept = [...this.golden.values()].filter((g) => g.status !== 'deleted').sort((a, b) => b.version - a.version);
    return kept[0] ? copy(kept[0]) : null;
  }

  async nextGoldenVersion(): Promise<number> {
    return Math.max(0, ...this.golden.keys()) + 1;
  }

  async listGolden(statuses: readonly GoldenImage['status'][]): Promise<GoldenImage[]> {
    return [...this.golden.values()]
      .filter((g) => statuses.includes(g.status))
      .sort((a, b) => a.version - b.version)
      .map(copy);
  }

  async updateGolden(version: number, patch: Partial<Omit<GoldenImage, 'version'>>): Promise<GoldenImage> {
    await this.write('updateGolden', [version, patch]);
    const image = this.golden.get(version);
    if (!image) throw new NotFoundError(`golden image v${version} does not exist`);
    Object.assign(image, defined(copy(patch)));
    return copy(image);
  }

  async activateGolden(version: number, readyAt: number): Promise<void> {
    await this.write('activateGolden', [version, readyAt]);
    const image = this.golden.get(version);
    if (!image) throw new NotFoundError(`golden image v${version} does not exist`);
    for (const other of this.golden.values()) {
      if (other.version !== version && other.status === 'ready') {
        other.status = 'superseded';
        other.supersededAt = readyAt;
      }
    }
    image.status = 'ready';
    image.readyAt = readyAt;
  }
}
