/** Domain types of cks-lab (docs/architecture.md). Times are epoch milliseconds. */

export type Strategy = 'snapshot' | 'bootstrap';
export const STRATEGIES: readonly Strategy[] = ['snapshot', 'bootstrap'];
/** How a learner's session got its cluster: provisioned for them, or `warm` (claimed from the pool). */
export type RunStrategy = Strategy | 'warm';
export const RUN_STRATEGIES: readonly RunStrategy[] = ['warm', 'snapshot', 'bootstrap'];

export type Role = 'control-plane' | 'worker';
export const ROLES: readonly Role[] = ['control-plane', 'worker'];

export type SessionStatus = 'pending' | 'provisioning' | 'running' | 'terminating' | 'terminated' | 'failed';
/** Statuses that hold cluster resources and count against the concurrency limit. */
export const ACTIVE_SESSION_STATUSES: readonly SessionStatus[] = ['pending', 'provisioning', 'running', 'terminating'];
/** Statuses of a session not yet ending: it can be extended, and a pool member in one can be retired. */
export const LIVE_SESSION_STATUSES: readonly SessionStatus[] = ['pending', 'provisioning', 'running'];
/**
 * Statuses of a session that can still be ended: by its owner, an admin, or the reaper at expiry (a
 * failed one may hold cluster objects its clean-up could not remove).
 */
export const ENDABLE_SESSION_STATUSES: readonly SessionStatus[] = [...LIVE_SESSION_STATUSES, 'failed'];

export interface Session {
  id: string;
  namespace: string;
  status: SessionStatus;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  /** The strategy that made (or is making) the cluster; `warm` once claimed from the pool. */
  strategy: RunStrategy | null;
  failureReason: string | null;
  runId: string | null;
  /** The account that started it; none for sessions started by internal tools (or before accounts existed). */
  ownerId?: string | null;
  /** An unclaimed warm-pool member: owned by nobody, never opened by anyone. */
  pool?: boolean;
}

export type AccountRole = 'learner' | 'admin';
export const ACCOUNT_ROLES: readonly AccountRole[] = ['learner', 'admin'];

/**
 * Who asks. A learner is always an account; an admin is an account or (userId null) an internal
 * tool holding the admin token.
 */
export type Actor = { role: 'learner'; userId: string } | { role: 'admin'; userId: string | null };

/** What background work and internal callers act as: an admin that owns nothing. */
export const SYSTEM_ACTOR: Actor = { role: 'admin', userId: null };

/** Why a run did not (or stopped trying to) use the snapshot strategy. */
export type FallbackReason =
  | 'no-golden-image'
  | 'golden-build-failed'
  | 'golden-not-ready'
  | 'version-mismatch'
  | 'golden-expired'
  | 'snapshot-unsupported'
  | 'snapshot-path-failed';

/** `cancelled`: the session was ended while it provisioned; neither a success nor a provisioning failure. */
export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface Run {
  id: string;
  sessionId: string;
  requestedStrategy: RunStrategy;
  /**
   * Strategy currently executing (or that finished the run). A `warm` run is the claim of a ready
   * pool member: it starts at the learner's click and ends at the claim.
   */
  usedStrategy: RunStrategy;
  fallbackReason: FallbackReason | null;
  fallbackDetail: string | null;
  /** Golden version whose disks this run clones; pinned once so both VMs use the same pair. */
  goldenVersion: number | null;
  startedAt: number;
  endedAt: number | null;
  outcome: RunOutcome;
  failureReason: string | null;
  /** Provisions a warm-pool member: never falls back to bootstrap, and no learner waited for it. */
  pool?: boolean;
}

export type StepOutcome = 'running' | 'succeeded' | 'failed';

export interface Step {
  runId: string;
  /** Order within the run; unique per run. */
  seq: number;
  strategy: Strategy;
  name: StepName;
  startedAt: number;
  endedAt: number | null;
  outcome: StepOutcome;
  detail: string | null;
}

export type StepName =
  | 'prepare-namespace'
  | 'create-vms-from-golden'
  | 'wait-disks-cloned'
  | 'wait-vms-running'
  | 'wait-cluster-ready'
  | 'remove-failed-attempt'
  | 'create-control-plane'
  | 'wait-control-plane-ready'
  | 'create-worker';

export type GoldenStatus = 'building' | 'ready' | 'failed' | 'superseded' | 'deleting' | 'deleted';

/** Build phases of a golden image, in order (docs/architecture.md#golden-image). Recorded so a restarted server resumes. */
export type GoldenPhase =
  | 'halt-source'
  | 'snapshot-vms'
  | 'restart-source'
  | 'copy-disks'
  | 'switch-datasources'
  | 'remove-session-snapshots'
  | 'done';
export const GOLDEN_PHASES: readonly GoldenPhase[] = [
  'halt-source',
  'snapshot-vms',
  'restart-source',
  'copy-disks',
  'switch-datasources',
  'remove-session-snapshots',
  'done',
];

export interface GoldenDisk {
  role: Role;
  /** VolumeSnapshot in the source session namespace the copy is made from. */
  volumeSnapshot: string | null;
  /** PVC (DataVolume) in vm-templates holding this version's disk. */
  pvc: string;
  sizeBytes: number | null;
}

export interface GoldenImage {
  version: number;
  status: GoldenStatus;
  phase: GoldenPhase;
  sourceSessionId: string;
  k8sVersion: string;
  createdAt: number;
  readyAt: number | null;
  /** When a newer version replaced it; it is kept a grace period and while runs still clone from it. */
  supersededAt: number | null;
  /**
   * When the kubeadm certificates on its disks were issued: the bootstrap run of the session it was
   * built from, or, for a session cloned from a golden image, that image's own `certsIssuedAt`.
   */
  certsIssuedAt: number;
  /** `certsIssuedAt` plus the golden lifetime: a clone's certificates must not run out under a learner. */
  expiresAt: number;
  disks: GoldenDisk[];
  failureReason: string | null;
}

/** What the cluster says about a golden disk right now (never stored: the cluster is the truth). */
export interface GoldenDiskState {
  role: Role;
  name: string;
  phase: string;
  progress: string | null;
  cloneFallbackReason: string | null;
}

export interface ClusterObjectSummary {
  kind: string;
  namespace: string;
  name: string;
  phase: string;
}

export interface PreflightCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Preflight {
  checks: PreflightCheck[];
  /** False when anything the snapshot strategy needs is missing. */
  snapshotSupported: boolean;
  /** Plain words for the first missing piece, when not supported. */
  snapshotUnsupportedReason: string | null;
}
