import { DEFAULT_CONFIG, type LabConfig, type StepDeadlines } from '../config';
import { LabEvents } from '../events';
import { Lab, type LabDeps } from '../lab';
import type { IdSource, Logger } from '../ports';
import type { GoldenImage } from '../types';
import { FakeCluster, type FakeClusterOptions } from './fake-cluster';
import { MemoryStore } from './memory-store';
import { TestClock } from './test-clock';

/** Deterministic ids: sessions 76c3ac01, 76c3ac02… (valid 8-hex ids), runs run-1, run-2… */
export class SequentialIds implements IdSource {
  private sessions: number;
  private runs: number;

  constructor(start = 0) {
    this.sessions = start;
    this.runs = start;
  }

  sessionId(): string {
    this.sessions += 1;
    return (0x76c3ac00 + this.sessions).toString(16).padStart(8, '0');
  }

  runId(): string {
    this.runs += 1;
    return `run-${this.runs}`;
  }
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps what it is told, for assertions. */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];
  info(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'info', fields, message });
  }
  warn(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'warn', fields, message });
  }
  error(fields: Record<string, unknown>, message: string): void {
    this.entries.push({ level: 'error', fields, message });
  }
  at(level: LogEntry['level']): LogEntry[] {
    return this.entries.filter((e) => e.level === level);
  }
}

export type TestConfigOverrides = Partial<Omit<LabConfig, 'deadlines'>> & { deadlines?: Partial<StepDeadlines> };

/** The default configuration (real-cluster deadlines; the fake's delays are the modelled latencies). */
export function testConfig(overrides: TestConfigOverrides = {}): LabConfig {
  const { deadlines, ...rest } = overrides;
  return { ...DEFAULT_CONFIG, ...rest, deadlines: { ...DEFAULT_CONFIG.deadlines, ...deadlines } };
}

export interface TestLabOptions {
  config?: TestConfigOverrides;
  cluster?: FakeClusterOptions;
  clock?: TestClock;
  store?: MemoryStore;
  /** Reuse a cluster (a restarted server talks to the same cluster). */
  fakeCluster?: FakeCluster;
  ids?: IdSource;
}

export interface TestLab {
  lab: Lab;
  clock: TestClock;
  store: MemoryStore;
  cluster: FakeCluster;
  ids: IdSource;
  logger: MemoryLogger;
  config: LabConfig;
  deps: LabDeps;
  /** Deps for calling executeRun / executeGoldenBuild directly (with their own event bus). */
  direct: LabDeps & { events: LabEvents };
  /** A new Lab on a copy of this store, the same cluster and clock: "the server restarted". */
  restart(): TestLab;
}

export function createTestLab(options: TestLabOptions = {}): TestLab {
  const clock = options.clock ?? new TestClock();
  const store = options.store ?? new MemoryStore();
  const cluster = options.fakeCluster ?? new FakeCluster(clock, options.cluster);
  const ids = options.ids ?? new SequentialIds();
  const logger = new MemoryLogger();
  const config = testConfig(options.config);
  const deps: LabDeps = { cluster, store, clock, ids, logger, config };
  const lab = new Lab(deps);
  return {
    lab,
    clock,
    store,
    cluster,
    ids,
    logger,
    config,
    deps,
    direct: { ...deps, events: new LabEvents() },
    restart: () => createTestLab({ ...options, clock, store: store.snapshot(), fakeCluster: cluster, ids }),
  };
}

/** Test set-up: a ready golden image `version` in the store and its disks in the cluster. */
export async function seedGolden(
  h: Pick<TestLab, 'store' | 'cluster' | 'clock' | 'config'>,
  overrides: Partial<GoldenImage> & { version?: number } = {},
): Promise<GoldenImage> {
  const version = overrides.version ?? (await h.store.nextGoldenVersion());
  const now = h.clock.now();
  const disks = h.cluster.seedGoldenVersion(version);
  const image: GoldenImage = {
    version,
    status: 'building',
    phase: 'done',
    sourceSessionId: '76c3ac1b',
    k8sVersion: h.config.k8sVersion,
    createdAt: now,
    readyAt: null,
    supersededAt: null,
    certsIssuedAt: now,
    expiresAt: now + h.config.goldenLifetimeMs,
    disks,
    failureReason: null,
    ...overrides,
  };
  await h.store.insertGoldenBuild(image);
  if (image.status === 'building') await h.store.activateGolden(version, now);
  return (await h.store.getGolden(version))!;
}

/**
 * Lets virtual time pass in steps of `stepMs` until `predicate` holds; fails after `timeoutMs`
 * of virtual time (so a broken test ends instead of spinning).
 */
export async function until(
  clock: TestClock,
  predicate: () => boolean | Promise<boolean>,
  options: { stepMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const { stepMs = 1_000, timeoutMs = 3_600_000 } = options;
  const giveUpAt = clock.now() + timeoutMs;
  while (!(await predicate())) {
    if (clock.now() >= giveUpAt) throw new Error(`until: condition not met within ${timeoutMs} ms of virtual time`);
    await clock.sleep(stepMs);
  }
}

/** A latch for FakeCluster.holdWhen: `hold` is the promise to return, `release()` lets the calls go. */
export function latch(): { hold: Promise<void>; release: () => void } {
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  return { hold, release };
}
