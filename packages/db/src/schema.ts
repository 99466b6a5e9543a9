import type {
  FallbackReason,
  GoldenDisk,
  GoldenPhase,
  GoldenStatus,
  RunOutcome,
  SessionStatus,
  StepName,
  StepOutcome,
  Strategy,
} from '@cks-lab/core';
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * Columns mirror the core types field by field, so rows need no mapping (sessions add a
 * `synthetic` marker). Times are epoch ms.
 */

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    namespace: text('namespace').notNull(),
    status: text('status').$type<SessionStatus>().notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    strategy: text('strategy').$type<Strategy>(),
    failureReason: text('failure_reason'),
    // No foreign key: a session names its run before the run row is written.
    runId: text('run_id'),
    /** Rows written by the synthetic seeder for load tests; never part of the real history. */
    synthetic: integer('synthetic', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('sessions_synthetic_created_at_idx').on(t.synthetic, t.createdAt),
    index('sessions_status_expires_at_idx').on(t.status, t.expiresAt),
  ],
);

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    requestedStrategy: text('requested_strategy').$type<Strategy>().notNull(),
    usedStrategy: text('used_strategy').$type<Strategy>().notNull(),
    fallbackReason: text('fallback_reason').$type<FallbackReason>(),
    fallbackDetail: text('fallback_detail'),
    goldenVersion: integer('golden_version'),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    outcome: text('outcome').$type<RunOutcome>().notNull(),
    failureReason: text('failure_reason'),
    synthetic: integer('synthetic', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('runs_synthetic_started_at_idx').on(t.synthetic, t.startedAt),
    index('runs_used_strategy_outcome_idx').on(t.usedStrategy, t.outcome),
    index('runs_golden_version_outcome_idx').on(t.goldenVersion, t.outcome),
    index('runs_session_id_idx').on(t.sessionId),
    // Tiny: only in-flight runs, which a restarted server resumes.
    index('runs_unfinished_idx').on(t.startedAt).where(sql`outcome = 'running'`),
  ],
);

// The primary key (run_id, seq) doubles as the index for looking up a run's steps.
export const steps = sqliteTable(
  'steps',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    strategy: text('strategy').$type<Strategy>().notNull(),
    name: text('name').$type<StepName>().notNull(),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    outcome: text('outcome').$type<StepOutcome>().notNull(),
    detail: text('detail'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

export const goldenImages = sqliteTable(
  'golden_images',
  {
    version: integer('version').primaryKey({ autoIncrement: false }),
    status: text('status').$type<GoldenStatus>().notNull(),
    phase: text('phase').$type<GoldenPhase>().notNull(),
    sourceSessionId: text('source_session_id').notNull(),
    k8sVersion: text('k8s_version').notNull(),
    createdAt: integer('created_at').notNull(),
    readyAt: integer('ready_at'),
    supersededAt: integer('superseded_at'),
    expiresAt: integer('expires_at').notNull(),
    disks: text('disks', { mode: 'json' }).$type<GoldenDisk[]>().notNull(),
    failureReason: text('failure_reason'),
  },
  (t) => [
    // Two concurrent golden builds: the database lets exactly one of them in (design §5.4).
    uniqueIndex('golden_images_one_building').on(t.status).where(sql`status = 'building'`),
    // New sessions clone from the one ready image; a second one could mix versions.
    uniqueIndex('golden_images_one_ready').on(t.status).where(sql`status = 'ready'`),
  ],
);
