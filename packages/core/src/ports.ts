import type { LabConfig } from './config';
import type { LabEvents } from './events';
import type { ClusterObjectSummary, GoldenDisk, GoldenDiskState, GoldenImage, Preflight, Role, Run, Session, Step } from './types';

/** Ports that core owns; packages/db and packages/kubevirt implement them, tests use in-memory fakes. */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface IdSource {
  sessionId(): string;
  runId(): string;
}

export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Where a VM's root disk comes from. */
export type DiskSource = { kind: 'golden'; version: number; pvc: string } | { kind: 'base-image' };

export type VmWaitTarget = 'disk-ready' | 'running' | 'ready' | 'stopped';

/** What the cluster holds under cks-lab's labels, found by label rather than from the records. */
export interface ManagedObjects {
  /** Session namespaces, with when each was created. */
  sessions: Array<{ sessionId: string; createdAt: number }>;
  /** Golden versions with a copy in the golden namespace, with when the oldest was created. */
  goldenVersions: Array<{ version: number; createdAt: number }>;
}

export interface SnapshotResult {
  volumeSnapshot: string;
  sizeBytes: number;
}

/**
 * The cluster as the orchestrator needs it. Every `ensure*` is idempotent (create-if-absent),
 * every `wait*` is a watch that gives up at `deadlineAt` with a DeadlineError and reports a failure
 * the cluster shows (failed clone, partial snapshot) as a ClusterFailure.
 */
export interface ClusterPort {
  readonly mode: 'simulated' | 'kubernetes';
  preflight(): Promise<Preflight>;

  ensureSessionBase(sessionId: string): Promise<void>;
  /** VM plus its cloud-init; on the bootstrap path the adapter keeps the session's kubeadm CA and token in the cluster. */
  ensureVm(sessionId: string, role: Role, source: DiskSource): Promise<void>;
  waitVms(sessionId: string, roles: readonly Role[], target: VmWaitTarget, deadlineAt: number, signal?: AbortSignal): Promise<void>;
  setRunStrategy(sessionId: string, roles: readonly Role[], runStrategy: 'Always' | 'Halted'): Promise<void>;
  /** Removes VMs, their disks and cloud-init secrets and waits until they are gone. */
  deleteVms(sessionId: string, deadlineAt: number): Promise<void>;
  /** Removes the session namespace and its RoleBinding in the golden namespace; waits until gone. */
  deleteSession(sessionId: string, deadlineAt: number): Promise<void>;
  sessionObjects(sessionId: string): Promise<ClusterObjectSummary[]>;
  /**
   * Follows `sessionObjects` as the cluster changes them: `onChange` gets the whole list once it is
   * known and again after every change, until the returned function stops the watch. Interruptions
   * are reported to `onError` and recovered from by the watch itself.
   */
  watchSessionObjects(
    sessionId: string,
    onChange: (objects: ClusterObjectSummary[]) => void,
    onError?: (error: unknown) => void,
  ): () => void;

  ensureVmSnapshot(sessionId: string, role: Role, version: number): Promise<void>;
  waitVmSnapshot(sessionId: string, role: Role, version: number, deadlineAt: number): Promise<SnapshotResult>;
  deleteVmSnapshots(sessionId: string, version: number): Promise<void>;
  ensureGoldenCopy(version: number, disk: GoldenDisk, sourceNamespace: string): Promise<void>;
  waitGoldenCopies(version: number, deadlineAt: number): Promise<void>;
  /** Points both stable golden DataSources at this version's copies in one step. */
  pointGoldenDataSources(version: number): Promise<void>;
  /** Removes this version's copies (and the DataSources when they point at it). */
  deleteGoldenVersion(version: number): Promise<void>;
  goldenDiskStates(version: number): Promise<GoldenDiskState[]>;
  /** Session namespaces and golden copies labelled as cks-lab's (reconcile-records.ts compares them with the records). */
  listManagedObjects(): Promise<ManagedObjects>;
}

export interface SessionQuery {
  includeEnded?: boolean;
  ownerId?: string;
  activeOnly?: boolean;
}

export interface SessionStore {
  /**
   * Inserts the session only when fewer than `limit` sessions are active and, given `ownerLimit`,
   * fewer than that many of the session's owner; atomic. Pool members being deleted do not count:
   * the pool yields its slots to learners at once.
   */
  insertSessionWithinLimit(session: Session, limit: number, ownerLimit?: number): Promise<boolean>;
  /**
   * Atomically hands the oldest running pool member cloned from `goldenVersion` to `ownerId` and
   * records `run` (a finished `warm` run) as its run; null when there is none or the owner is at
   * `ownerLimit`.
   */
  claimPoolMember(claim: PoolClaim): Promise<Session | null>;
  /** Atomically marks a still-unclaimed, live pool member `terminating`; false when it was claimed or gone. */
  retirePoolMember(id: string, now: number): Promise<boolean>;
  /**
   * Atomically marks an endable session (ENDABLE_SESSION_STATUSES) `terminating`; false when it is
   * not. The transition is the lock: only the caller that made it deletes the session.
   */
  beginTermination(id: string, now: number): Promise<boolean>;
  getSession(id: string): Promise<Session | null>;
  /** Newest first; `ownerId` keeps one account's sessions, `activeOnly` those that hold resources. */
  listSessions(options?: SessionQuery): Promise<Session[]>;
  updateSession(id: string, patch: Partial<Omit<Session, 'id'>>): Promise<Session>;
  countActiveSessions(): Promise<number>;
  expiredSessions(now: number): Promise<Session[]>;
}

export interface PoolClaim {
  goldenVersion: number;
  ownerId: string | null;
  ownerLimit?: number;
  expiresAt: number;
  run: Omit<Run, 'sessionId'>;
}

export interface RunStore {
  insertRun(run: Run): Promise<void>;
  getRun(id: string): Promise<Run | null>;
  updateRun(id: string, patch: Partial<Omit<Run, 'id'>>): Promise<Run>;
  unfinishedRuns(): Promise<Run[]>;
  /** Unfinished runs cloning from a golden version: the version must be kept while any exist. */
  countUnfinishedRunsOnGolden(version: number): Promise<number>;
  startStep(step: Step): Promise<void>;
  finishStep(runId: string, seq: number, patch: Pick<Step, 'endedAt' | 'outcome' | 'detail'>): Promise<void>;
  stepsOfRun(runId: string): Promise<Step[]>;
}

export interface GoldenStore {
  /** Inserts a build; throws ConflictError when another build is in progress. */
  insertGoldenBuild(image: GoldenImage): Promise<void>;
  getGolden(version: number): Promise<GoldenImage | null>;
  /** The ready golden image, if any. */
  activeGolden(): Promise<GoldenImage | null>;
  latestGolden(): Promise<GoldenImage | null>;
  nextGoldenVersion(): Promise<number>;
  listGolden(statuses: readonly GoldenImage['status'][]): Promise<GoldenImage[]>;
  updateGolden(version: number, patch: Partial<Omit<GoldenImage, 'version'>>): Promise<GoldenImage>;
  /** In one transaction: the previous ready image becomes superseded and this one ready. */
  activateGolden(version: number, readyAt: number): Promise<void>;
}

export type Store = SessionStore & RunStore & GoldenStore;

/** What the background work (provisioning runs, golden builds) needs. */
export interface OrchestrationDeps {
  cluster: ClusterPort;
  store: Store;
  clock: Clock;
  logger: Logger;
  config: LabConfig;
  events: LabEvents;
}

/** A VM's serial console once open: raw bytes both ways, as KubeVirt's console subresource carries them. */
export interface ConsoleConnection {
  write(data: Uint8Array): void;
  /** Bytes from the VM, in order. */
  onData(listener: (data: Uint8Array) => void): void;
  /** Called once when the console closes, from either side, with why in words. */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

/** Serial consoles of a session's VMs (the learner's terminal). */
export interface ConsolePort {
  /** Throws PreconditionError when the VM is not there or not running. */
  openConsole(sessionId: string, role: Role): Promise<ConsoleConnection>;
}
