import type {
  AccountRole,
  FallbackReason,
  GoldenDisk,
  GoldenPhase,
  GoldenStatus,
  RunOutcome,
  RunStrategy,
  SessionStatus,
  StepName,
  StepOutcome,
  Strategy,
} from '@cks-lab/core';
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** Columns mirror the core types field by field, so rows need no mapping. Times are epoch ms. */

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    namespace: text('namespace').notNull(),
    status: text('status').$type<SessionStatus>().notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    strategy: text('strategy').$type<RunStrategy>(),
    failureReason: text('failure_reason'),
    // No foreign key: a session names its run before the run row is written.
    runId: text('run_id'),
    /** The account that started it; null for internal tools and sessions from before accounts. */
    ownerId: text('owner_id').references(() => users.id),
    /** An unclaimed warm-pool member. */
    pool: integer('pool', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    // Session lists, newest first (ties by id).
    index('sessions_created_at_idx').on(t.createdAt, t.id),
    index('sessions_status_expires_at_idx').on(t.status, t.expiresAt),
    // A learner's own (active) sessions: their list and the per-learner limit.
    index('sessions_owner_status_idx').on(t.ownerId, t.status),
    // Tiny: the unclaimed pool members, which every claim and reconciliation looks at.
    index('sessions_pool_idx').on(t.status, t.createdAt).where(sql`pool = 1`),
  ],
);

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    requestedStrategy: text('requested_strategy').$type<RunStrategy>().notNull(),
    usedStrategy: text('used_strategy').$type<RunStrategy>().notNull(),
    fallbackReason: text('fallback_reason').$type<FallbackReason>(),
    fallbackDetail: text('fallback_detail'),
    goldenVersion: integer('golden_version'),
    startedAt: integer('started_at').notNull(),
    endedAt: integer('ended_at'),
    outcome: text('outcome').$type<RunOutcome>().notNull(),
    failureReason: text('failure_reason'),
    /** Provisions a warm-pool member: no learner waited for it. */
    pool: integer('pool', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    // For the metrics (metrics.ts), which walk these in order instead of sorting runs: by outcome and
    // strategy, in order of time-to-ready (percentiles, histograms, counts)…
    index('runs_metrics_idx').on(
      t.outcome,
      t.usedStrategy,
      sql`ended_at - started_at`,
      t.startedAt,
      // With both times as columns SQLite sees that the index covers `ended_at - started_at`.
      t.endedAt,
      t.requestedStrategy,
    ),
    // …the succeeded ones by strategy, in order of start (series)…
    index('runs_succeeded_started_at_idx').on(t.usedStrategy, t.startedAt, t.endedAt).where(sql`outcome = 'succeeded'`),
    // …and by fallback reason.
    index('runs_fallback_reason_idx').on(t.fallbackReason, t.startedAt),
    index('runs_used_strategy_outcome_idx').on(t.usedStrategy, t.outcome),
    index('runs_golden_version_outcome_idx').on(t.goldenVersion, t.outcome),
    index('runs_session_id_idx').on(t.sessionId),
    // Tiny: the warm pool's own runs, which the pool hit rate leaves out of the starts.
    index('runs_pool_started_at_idx').on(t.startedAt).where(sql`pool = 1`),
    // Tiny: only in-flight runs, which a restarted server resumes.
    index('runs_unfinished_idx').on(t.startedAt).where(sql`outcome = 'running'`),
  ],
);

/**
 * The primary key (run_id, seq) doubles as the index for looking up a run's steps.
 * `run_started_at` is a copy of the run's `started_at`, for the step metrics to filter on without
 * joining runs; it is not part of the core `Step`. Triggers (migrations 0001, 0005) fill it in when a
 * step is inserted without it and follow changes to the run's start.
 */
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
    runStartedAt: integer('run_started_at'),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.seq] }),
    // Mean step durations (metrics.ts `stepBreakdown`): one range of run start times per group.
    index('steps_metrics_idx').on(t.strategy, t.name, t.runStartedAt, sql`ended_at - started_at`, t.seq).where(sql`outcome = 'succeeded'`),
  ],
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
    certsIssuedAt: integer('certs_issued_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    disks: text('disks', { mode: 'json' }).$type<GoldenDisk[]>().notNull(),
    failureReason: text('failure_reason'),
  },
  (t) => [
    // Two concurrent golden builds: the database lets exactly one of them in (docs/architecture.md#golden-image).
    uniqueIndex('golden_images_one_building').on(t.status).where(sql`status = 'building'`),
    // New sessions clone from the one ready image; a second one could mix versions.
    uniqueIndex('golden_images_one_ready').on(t.status).where(sql`status = 'ready'`),
  ],
);

/**
 * Accounts, stored by better-auth through its Drizzle adapter (apps/web/src/server/auth.ts): the
 * property names are the library's field names. Roles and the disabled flag are cks-lab's own.
 * `auth_` prefixes keep its sessions apart from lab sessions.
 */
export const users = sqliteTable('users', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** Local accounts have no real address: `<username>@local.invalid`; OIDC accounts the issuer's. */
  email: text('email').notNull().unique(),
  emailVerified: integer('email_verified', { mode: 'boolean' }).notNull().default(false),
  image: text('image'),
  /** Lowercase; null for OIDC accounts without one. */
  username: text('username').unique(),
  role: text('role').$type<AccountRole>().notNull().default('learner'),
  /** A disabled account cannot sign in and its auth sessions are removed. */
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

export const authSessions = sqliteTable(
  'auth_sessions',
  {
    id: text('id').primaryKey(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    token: text('token').notNull().unique(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
    ipAddress: text('ip_address'),
    userAgent: text('user_agent'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
  },
  (t) => [index('auth_sessions_user_id_idx').on(t.userId)],
);

/** Credentials: the password hash of a local account, or the link to an OIDC identity. */
export const authAccounts = sqliteTable(
  'auth_accounts',
  {
    id: text('id').primaryKey(),
    accountId: text('account_id').notNull(),
    providerId: text('provider_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    idToken: text('id_token'),
    accessTokenExpiresAt: integer('access_token_expires_at', { mode: 'timestamp_ms' }),
    refreshTokenExpiresAt: integer('refresh_token_expires_at', { mode: 'timestamp_ms' }),
    scope: text('scope'),
    password: text('password'),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('auth_accounts_user_id_idx').on(t.userId)],
);

/** OIDC state and other one-time values. */
export const authVerifications = sqliteTable(
  'auth_verifications',
  {
    id: text('id').primaryKey(),
    identifier: text('identifier').notNull(),
    value: text('value').notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (t) => [index('auth_verifications_identifier_idx').on(t.identifier)],
);
