import {
  DEFAULT_LATENCY_MODEL,
  type FallbackReason,
  type Run,
  type Session,
  STRATEGY_STEPS,
  type Step,
  type StepName,
  type Strategy,
} from '@cks-lab/core';
import { getTableColumns, type Placeholder, sql } from 'drizzle-orm';
import type { SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { LabDb } from './lab-db';
import { runs, sessions, steps } from './schema';

/**
 * Generated run history for benchmarks of the metrics queries, written only into a database that
 * has no sessions yet (a scratch one), so it never mixes with real history. Ids start with `seed-`,
 * which no real session or run id can (they are hex).
 */
export interface RunHistoryOptions {
  /** Runs to write; each gets its session and its steps. Default 100,000. */
  count?: number;
  /** End of the seeded period (epoch ms); runs spread evenly over the `days` before it. */
  now?: number;
  days?: number;
  /** Seed of the random generator: the same seed writes the same history. */
  seed?: number;
}

export interface RunHistoryResult {
  sessions: number;
  runs: number;
  steps: number;
}

interface PlannedStep {
  strategy: Strategy;
  name: StepName;
  meanMs: number;
  spreadMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const SESSION_TTL_MS = 60 * 60 * 1000;
const SNAPSHOT_REQUEST_RATE = 0.7;
/** Of snapshot requests; about 5% of all runs. */
const FALLBACK_RATE = 0.07;
const FAILURE_RATE = 0.02;
const GOLDEN_REFRESH_DAYS = 7;
const SELECTION_REASONS: readonly FallbackReason[] = ['no-golden-image', 'golden-not-ready', 'golden-expired', 'version-mismatch'];

/** Mean and spread of a step's duration (ms); steps that only create objects take about a second. */
type StepTime = Pick<PlannedStep, 'meanMs' | 'spreadMs'>;
const CREATE_STEP: StepTime = { meanMs: 800, spreadMs: 200 };
const PREPARE_NAMESPACE: StepTime = { meanMs: 1_500, spreadMs: 300 };
const model = (seconds: number, spreadMs: number): StepTime => ({ meanMs: seconds * 1000, spreadMs });
const m = DEFAULT_LATENCY_MODEL;

/** A strategy's steps in the order it runs them, the waits timed by the latency model. */
function stepsOf(strategy: Strategy, waits: Partial<Record<StepName, StepTime>>): PlannedStep[] {
  return STRATEGY_STEPS[strategy].map((name) => ({
    strategy,
    name,
    ...(name === 'prepare-namespace' ? PREPARE_NAMESPACE : (waits[name] ?? CREATE_STEP)),
  }));
}

// ~72 s snapshot, ~473 s bootstrap.
const SNAPSHOT_PATH = stepsOf('snapshot', {
  'wait-disks-cloned': model(m.goldenSmartClone, 1_500),
  'wait-vms-running': model(m.vmStart, 4_000),
  'wait-cluster-ready': model(m.restoredBoot, 8_000),
});
const BOOTSTRAP_PATH = stepsOf('bootstrap', {
  'wait-control-plane-ready': model(m.baseImageClone + m.vmStart + m.controlPlaneBootstrap, 40_000),
  'wait-cluster-ready': model(m.baseImageClone + m.vmStart + m.workerJoin, 25_000),
});
/** A snapshot attempt whose disk clone times out, the clean-up, then the whole bootstrap path. */
const FALLBACK_PATH: readonly PlannedStep[] = [
  ...SNAPSHOT_PATH.slice(0, 2),
  { strategy: 'snapshot', name: 'wait-disks-cloned', meanMs: 120_000, spreadMs: 30_000 },
  { strategy: 'snapshot', name: 'remove-failed-attempt', meanMs: 15_000, spreadMs: 5_000 },
  ...BOOTSTRAP_PATH,
];
const FALLBACK_FAILED_STEP = 2;

/**
 * Writes `count` runs into an empty database in one transaction. 100,000 runs (about 520,000 steps)
 * take a few seconds.
 */
export function seedRunHistory(db: LabDb, options: RunHistoryOptions = {}): RunHistoryResult {
  const count = options.count ?? 100_000;
  const now = options.now ?? Date.now();
  const periodMs = (options.days ?? 30) * DAY_MS;
  const insertSession = db
    .insert(sessions)
    .values({ ...placeholders(sessions), pool: false })
    .prepare();
  const insertRun = db
    .insert(runs)
    .values({ ...placeholders(runs), pool: false })
    .prepare();
  const insertStep = db.insert(steps).values(placeholders(steps)).prepare();

  const history = generatedHistory(count, now - periodMs, periodMs, mulberry32(options.seed ?? 1));
  return db.transaction((tx) => {
    if (tx.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM sessions`).n > 0)
      throw new Error('run history is seeded only into an empty (scratch) database');

    const written = { sessions: 0, runs: 0, steps: 0 };
    for (const { session, run, steps: runSteps } of history) {
      // Spread: `run` takes a plain record, which an interface type is not.
      insertSession.run({ ...session });
      insertRun.run({ ...run });
      // Steps carry a copy of their run's start for the metrics (schema.ts); given here, it spares
      // the trigger that would otherwise copy it over.
      for (const step of runSteps) insertStep.run({ ...step, runStartedAt: run.startedAt });
      written.sessions++;
      written.runs++;
      written.steps += runSteps.length;
    }
    return written;
  });
}

function* generatedHistory(
  count: number,
  startMs: number,
  periodMs: number,
  random: () => number,
): Generator<{ session: Session; run: Run; steps: Step[] }> {
  const noise = (meanMs: number, spreadMs: number) => Math.max(Math.round(meanMs / 4), Math.round(meanMs + spreadMs * gaussian(random)));

  for (let i = 0; i < count; i++) {
    const suffix = String(i).padStart(6, '0');
    const sessionId = `seed-${suffix}`;
    const runId = `seed-run-${suffix}`;
    const startedAt = Math.round(startMs + ((i + random()) / count) * periodMs);

    const snapshotRequested = random() < SNAPSHOT_REQUEST_RATE;
    const fellBack = snapshotRequested && random() < FALLBACK_RATE;
    const path = !snapshotRequested ? BOOTSTRAP_PATH : fellBack ? FALLBACK_PATH : SNAPSHOT_PATH;
    // A failed snapshot step makes a fallback, not a failed run: fallbacks can only fail later.
    const firstFailable = fellBack ? FALLBACK_FAILED_STEP + 1 : 0;
    const failedAt = random() < FAILURE_RATE ? firstFailable + Math.floor(random() * (path.length - firstFailable)) : null;

    const runSteps: Step[] = [];
    let at = startedAt;
    for (const [index, planned] of path.slice(0, (failedAt ?? path.length - 1) + 1).entries()) {
      const failed = index === failedAt || (fellBack && index === FALLBACK_FAILED_STEP);
      const endedAt = at + noise(planned.meanMs, planned.spreadMs);
      runSteps.push({
        runId,
        seq: index + 1,
        strategy: planned.strategy,
        name: planned.name,
        startedAt: at,
        endedAt,
        outcome: failed ? 'failed' : 'succeeded',
        detail: failed ? 'seeded failure' : null,
      });
      at = endedAt;
    }

    const usedStrategy: Strategy = snapshotRequested && !fellBack ? 'snapshot' : 'bootstrap';
    const failureReason = failedAt === null ? null : 'seeded failure';
    const run: Run = {
      id: runId,
      sessionId,
      requestedStrategy: snapshotRequested ? 'snapshot' : 'bootstrap',
      usedStrategy,
      fallbackReason: fellBack
        ? 'snapshot-path-failed'
        : snapshotRequested
          ? null
          : SELECTION_REASONS[Math.floor(random() * SELECTION_REASONS.length)]!,
      fallbackDetail: fellBack ? 'seeded: cloning the golden disks timed out' : null,
      goldenVersion: snapshotRequested ? 1 + Math.floor((startedAt - startMs) / (GOLDEN_REFRESH_DAYS * DAY_MS)) : null,
      startedAt,
      endedAt: at,
      outcome: failureReason ? 'failed' : 'succeeded',
      failureReason,
    };
    const session: Session = {
      id: sessionId,
      namespace: `user-session-${sessionId}`,
      status: failureReason ? 'failed' : 'terminated',
      createdAt: startedAt,
      updatedAt: failureReason ? at : startedAt + SESSION_TTL_MS,
      expiresAt: startedAt + SESSION_TTL_MS,
      strategy: usedStrategy,
      failureReason,
      runId,
      ownerId: null,
    };
    yield { session, run, steps: runSteps };
  }
}

/** One placeholder per column, named after the field, so a domain record binds as it is. */
function placeholders<T extends SQLiteTable>(table: T): Record<keyof T['$inferInsert'], Placeholder> {
  const columns = Object.keys(getTableColumns(table)) as Array<keyof T['$inferInsert'] & string>;
  return Object.fromEntries(columns.map((key) => [key, sql.placeholder(key)])) as Record<keyof T['$inferInsert'], Placeholder>;
}

/** A small, fast, seedable PRNG (Mulberry32); uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
