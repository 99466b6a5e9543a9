/** Configuration the domain needs; the app builds it from the environment. Durations in milliseconds. */
export interface StepDeadlines {
  prepareNamespace: number;
  cloneDisks: number;
  vmsRunning: number;
  restoredClusterReady: number;
  controlPlaneReady: number;
  workerReady: number;
  removeAttempt: number;
  haltVms: number;
  vmSnapshot: number;
  goldenCopy: number;
  deleteSession: number;
}

export interface LabConfig {
  k8sVersion: string;
  sessionTtlMs: number;
  maxConcurrentSessions: number;
  /** Active sessions one learner may have at once, within `maxConcurrentSessions`. */
  sessionsPerLearner: number;
  /** kubeadm leaf certificates last a year; a golden image is retired before they expire. */
  goldenLifetimeMs: number;
  /** How long a superseded golden version is kept at least, so a run that just picked it can pin it. */
  goldenGraceMs: number;
  deadlines: StepDeadlines;
  /** First retry delay after a transient cluster error; doubles up to 8x. */
  retryBackoffMs: number;
  /** Warm-pool members kept ready at start-up (admins resize it at run time). */
  warmPoolSize: number;
  /** Wait before replacing a failed pool member; doubles per consecutive failure up to 32x. */
  poolBackoffMs: number;
}

const MINUTE = 60_000;

/** Deadlines for a real cluster: generous multiples of the slowest plausible case. */
export const REAL_CLUSTER_DEADLINES: StepDeadlines = {
  prepareNamespace: 2 * MINUTE,
  cloneDisks: 15 * MINUTE,
  vmsRunning: 10 * MINUTE,
  restoredClusterReady: 8 * MINUTE,
  controlPlaneReady: 25 * MINUTE,
  workerReady: 15 * MINUTE,
  removeAttempt: 5 * MINUTE,
  haltVms: 5 * MINUTE,
  vmSnapshot: 10 * MINUTE,
  goldenCopy: 30 * MINUTE,
  deleteSession: 10 * MINUTE,
};

export const DEFAULT_CONFIG: LabConfig = {
  k8sVersion: 'v1.34.2',
  sessionTtlMs: 60 * MINUTE,
  maxConcurrentSessions: 10,
  sessionsPerLearner: 1,
  goldenLifetimeMs: 334 * 24 * 60 * MINUTE,
  goldenGraceMs: 2 * MINUTE,
  deadlines: REAL_CLUSTER_DEADLINES,
  retryBackoffMs: 500,
  warmPoolSize: 0,
  poolBackoffMs: 30_000,
};
