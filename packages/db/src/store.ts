import {
  ACTIVE_SESSION_STATUSES,
  ConflictError,
  ENDABLE_SESSION_STATUSES,
  type GoldenImage,
  LIVE_SESSION_STATUSES,
  NotFoundError,
  type PoolClaim,
  type Run,
  type Session,
  type SessionQuery,
  type Step,
  type Store,
} from '@cks-lab/core';
import { and, asc, count, desc, eq, getTableColumns, inArray, isNull, lte, max, ne, not, type SQL } from 'drizzle-orm';
import type { LabDb } from './lab-db';
import { goldenImages, runs, sessions, steps } from './schema';

const sessionColumns = getTableColumns(sessions);
/** A step row is a core `Step` plus copies of its run's values for the metrics (see schema.ts). */
const { runStartedAt: _stepRunStartedAt, ...stepColumns } = getTableColumns(steps);

/**
 * The core `Store` on SQLite. better-sqlite3 is synchronous, so every method completes before it
 * returns its promise; multi-statement invariants use IMMEDIATE transactions, which take the write
 * lock up front and so also hold against other connections and processes.
 */
export class SqliteStore implements Store {
  constructor(private readonly db: LabDb) {}

  // Sessions

  async insertSessionWithinLimit(session: Session, limit: number, ownerLimit?: number): Promise<boolean> {
    return this.db.transaction(
      (tx) => {
        const activeWhere = (also?: SQL) => and(inArray(sessions.status, [...ACTIVE_SESSION_STATUSES]), also);
        const retiringPoolMember = and(eq(sessions.pool, true), eq(sessions.status, 'terminating'));
        const [row] = tx
          .select({ active: count() })
          .from(sessions)
          .where(activeWhere(not(retiringPoolMember!)))
          .all();
        if ((row?.active ?? 0) >= limit) return false;
        if (ownerLimit !== undefined) {
          const owner = session.ownerId ? eq(sessions.ownerId, session.ownerId) : isNull(sessions.ownerId);
          const [own] = tx.select({ active: count() }).from(sessions).where(activeWhere(owner)).all();
          if ((own?.active ?? 0) >= ownerLimit) return false;
        }
        tx.insert(sessions).values(session).run();
        return true;
      },
      { behavior: 'immediate' },
    );
  }

  async claimPoolMember(claim: PoolClaim): Promise<Session | null> {
    return this.db.transaction(
      (tx) => {
        const member = tx
          .select({ id: sessions.id })
          .from(sessions)
          .innerJoin(runs, eq(runs.id, sessions.runId))
          .where(and(eq(sessions.pool, true), eq(sessions.status, 'running'), eq(runs.goldenVersion, claim.goldenVersion)))
          .orderBy(asc(sessions.createdAt), asc(sessions.id))
          .limit(1)
          .get();
        if (!member) return null;
        if (claim.ownerLimit !== undefined) {
          const owner = claim.ownerId ? eq(sessions.ownerId, claim.ownerId) : isNull(sessions.ownerId);
          const [own] = tx
            .select({ active: count() })
            .from(sessions)
            .where(and(inArray(sessions.status, [...ACTIVE_SESSION_STATUSES]), owner))
            .all();
          if ((own?.active ?? 0) >= claim.ownerLimit) return null;
        }
        tx.insert(runs)
          .values({ ...claim.run, sessionId: member.id })
          .run();
        return (
          tx
            .update(sessions)
            .set({
              pool: false,
              ownerId: claim.ownerId,
              expiresAt: claim.expiresAt,
              updatedAt: claim.run.endedAt ?? claim.run.startedAt,
              strategy: 'warm',
              runId: claim.run.id,
            })
            .where(eq(sessions.id, member.id))
            .returning(sessionColumns)
            .get() ?? null
        );
      },
      { behavior: 'immediate' },
    );
  }

  async retirePoolMember(id: string, now: number): Promise<boolean> {
    const { changes } = this.db
      .update(sessions)
      .set({ status: 'terminating', updatedAt: now })
      .where(and(eq(sessions.id, id), eq(sessions.pool, true), inArray(sessions.status, [...LIVE_SESSION_STATUSES])))
      .run();
    return changes > 0;
  }

  async beginTermination(id: string, now: number): Promise<boolean> {
    const { changes } = this.db
      .update(sessions)
      .set({ status: 'terminating', updatedAt: now })
      .where(and(eq(sessions.id, id), inArray(sessions.status, [...ENDABLE_SESSION_STATUSES])))
      .run();
    return changes > 0;
  }

  async getSession(id: string): Promise<Session | null> {
    return this.db.select(sessionColumns).from(sessions).where(eq(sessions.id, id)).get() ?? null;
  }

  /** Newest first; ended (terminated) sessions only when asked for. Failed ones are always listed. */
  async listSessions(options: SessionQuery = {}): Promise<Session[]> {
    return this.db
      .select(sessionColumns)
      .from(sessions)
      .where(
        and(
          options.includeEnded ? undefined : ne(sessions.status, 'terminated'),
          options.ownerId === undefined ? undefined : eq(sessions.ownerId, options.ownerId),
          options.activeOnly ? inArray(sessions.status, [...ACTIVE_SESSION_STATUSES]) : undefined,
        ),
      )
      .orderBy(desc(sessions.createdAt), desc(sessions.id))
      .all();
  }

  async updateSession(id: string, patch: Partial<Omit<Session, 'id'>>): Promise<Session> {
    const updated = hasValues(patch)
      ? this.db.update(sessions).set(patch).where(eq(sessions.id, id)).returning(sessionColumns).get()
      : await this.getSession(id);
    if (!updated) throw new NotFoundError(`session ${id} does not exist`);
    return updated;
  }

  async countActiveSessions(): Promise<number> {
    const [row] = this.db
      .select({ active: count() })
      .from(sessions)
      .where(inArray(sessions.status, [...ACTIVE_SESSION_STATUSES]))
      .all();
    return row?.active ?? 0;
  }

  async expiredSessions(now: number): Promise<Session[]> {
    return this.db
      .select(sessionColumns)
      .from(sessions)
      .where(and(inArray(sessions.status, [...ENDABLE_SESSION_STATUSES]), lte(sessions.expiresAt, now)))
      .orderBy(asc(sessions.expiresAt))
      .all();
  }

  // Runs and steps

  async insertRun(run: Run): Promise<void> {
    this.db.insert(runs).values(run).run();
  }

  async getRun(id: string): Promise<Run | null> {
    return this.db.select().from(runs).where(eq(runs.id, id)).get() ?? null;
  }

  async updateRun(id: string, patch: Partial<Omit<Run, 'id'>>): Promise<Run> {
    const updated = hasValues(patch) ? this.db.update(runs).set(patch).where(eq(runs.id, id)).returning().get() : await this.getRun(id);
    if (!updated) throw new NotFoundError(`run ${id} does not exist`);
    return updated;
  }

  async unfinishedRuns(): Promise<Run[]> {
    return this.db.select().from(runs).where(eq(runs.outcome, 'running')).orderBy(asc(runs.startedAt)).all();
  }

  async countUnfinishedRunsOnGolden(version: number): Promise<number> {
    const [row] = this.db
      .select({ unfinished: count() })
      .from(runs)
      .where(and(eq(runs.goldenVersion, version), eq(runs.outcome, 'running')))
      .all();
    return row?.unfinished ?? 0;
  }

  /** A trigger (migrations 0001, 0005) copies the run's start onto the step. */
  async startStep(step: Step): Promise<void> {
    this.db.insert(steps).values(step).run();
  }

  async finishStep(runId: string, seq: number, patch: Pick<Step, 'endedAt' | 'outcome' | 'detail'>): Promise<void> {
    const { changes } = this.db
      .update(steps)
      .set({ endedAt: patch.endedAt, outcome: patch.outcome, detail: patch.detail })
      .where(and(eq(steps.runId, runId), eq(steps.seq, seq)))
      .run();
    if (changes === 0) throw new NotFoundError(`step ${seq} of run ${runId} does not exist`);
  }

  async stepsOfRun(runId: string): Promise<Step[]> {
    return this.db.select(stepColumns).from(steps).where(eq(steps.runId, runId)).orderBy(asc(steps.seq)).all();
  }

  // Golden images

  async insertGoldenBuild(image: GoldenImage): Promise<void> {
    try {
      this.db.insert(goldenImages).values(image).run();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      const [building] = await this.listGolden(['building']);
      throw new ConflictError(
        building ? `a golden image build is already in progress (v${building.version})` : `golden image v${image.version} already exists`,
        { cause: error },
      );
    }
  }

  async getGolden(version: number): Promise<GoldenImage | null> {
    return this.db.select().from(goldenImages).where(eq(goldenImages.version, version)).get() ?? null;
  }

  async activeGolden(): Promise<GoldenImage | null> {
    return this.db.select().from(goldenImages).where(eq(goldenImages.status, 'ready')).get() ?? null;
  }

  async latestGolden(): Promise<GoldenImage | null> {
    return (
      this.db.select().from(goldenImages).where(ne(goldenImages.status, 'deleted')).orderBy(desc(goldenImages.version)).limit(1).get() ??
      null
    );
  }

  /** Versions are never reused, not even those of deleted images: their object names may linger. */
  async nextGoldenVersion(): Promise<number> {
    const row = this.db
      .select({ latest: max(goldenImages.version) })
      .from(goldenImages)
      .get();
    return (row?.latest ?? 0) + 1;
  }

  /** Newest version first. */
  async listGolden(statuses: readonly GoldenImage['status'][]): Promise<GoldenImage[]> {
    if (statuses.length === 0) return [];
    return this.db
      .select()
      .from(goldenImages)
      .where(inArray(goldenImages.status, [...statuses]))
      .orderBy(desc(goldenImages.version))
      .all();
  }

  async updateGolden(version: number, patch: Partial<Omit<GoldenImage, 'version'>>): Promise<GoldenImage> {
    let updated: GoldenImage | null | undefined;
    try {
      updated = hasValues(patch)
        ? this.db.update(goldenImages).set(patch).where(eq(goldenImages.version, version)).returning().get()
        : await this.getGolden(version);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(`golden image v${version} cannot become ${patch.status ?? 'updated'}: another image already is`, {
        cause: error,
      });
    }
    if (!updated) throw new NotFoundError(`golden image v${version} does not exist`);
    return updated;
  }

  async activateGolden(version: number, readyAt: number): Promise<void> {
    this.db.transaction(
      (tx) => {
        tx.update(goldenImages)
          .set({ status: 'superseded', supersededAt: readyAt })
          .where(and(eq(goldenImages.status, 'ready'), ne(goldenImages.version, version)))
          .run();
        const { changes } = tx.update(goldenImages).set({ status: 'ready', readyAt }).where(eq(goldenImages.version, version)).run();
        if (changes === 0) throw new NotFoundError(`golden image v${version} does not exist`);
      },
      { behavior: 'immediate' },
    );
  }
}

function hasValues(patch: object): boolean {
  return Object.values(patch).some((value) => value !== undefined);
}

/** drizzle wraps driver errors, so the SQLite code may sit anywhere in the cause chain. */
function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return true;
  }
  return false;
}
