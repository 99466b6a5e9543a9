import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Clock, DEFAULT_CONFIG, type IdSource, Lab, type LabConfig, type Logger, type StepDeadlines } from '@cks-lab/core';
import { type LabDatabase, openDatabase } from '@cks-lab/db';
import {
  type ClusterSettings,
  DEFAULT_CLUSTER_SETTINGS,
  DEFAULT_LATENCY_MODEL,
  type Fault,
  type MemoryObjectApi,
  SimulatedControllers,
  startSimulatedCluster,
} from '@cks-lab/kubevirt';
import { ClientNodeObjectApi, type KubernetesCluster, startKubernetesCluster } from '@cks-lab/kubevirt/kubernetes';
import type { TestCluster } from '../../infra/cluster';
import { kubeConfigOf } from './test-cluster';

export const SETTINGS: ClusterSettings = DEFAULT_CLUSTER_SETTINGS;

/** Modelled minutes become milliseconds: a bootstrap's 300 s of kubeadm plays in 0.6 s. */
export const TIME_SCALE = 0.002;

/** Real API calls, simulated controllers: generous against scheduling noise on 2 cores and an API server restart. */
const DEADLINE_MS = 60_000;

const labConfig = (deadlineMs: number): LabConfig => ({
  ...DEFAULT_CONFIG,
  deadlines: Object.fromEntries(Object.keys(DEFAULT_CONFIG.deadlines).map((step) => [step, deadlineMs])) as unknown as StepDeadlines,
  retryBackoffMs: 100,
  goldenGraceMs: 0,
});

const clock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };
const ids: IdSource = { sessionId: () => randomBytes(4).toString('hex'), runId: () => randomUUID() };

/** Warnings and errors go to the test log (they explain a failure); info only with CKS_LAB_VERBOSE. */
export function testLogger(prefix: string): Logger {
  const line = (level: string, fields: Record<string, unknown>, message: string) =>
    `[${prefix}] ${level} ${message} ${JSON.stringify(fields)}`;
  return {
    info: (fields, message) => {
      if (process.env.CKS_LAB_VERBOSE) console.log(line('info', fields, message));
    },
    warn: (fields, message) => console.warn(line('warn', fields, message)),
    error: (fields, message) => console.error(line('error', fields, message)),
  };
}

export interface Platform {
  lab: Lab;
  /** What cks-lab runs on: the real adapter over ClientNodeObjectApi, with the given credentials. */
  kube: KubernetesCluster;
  /** Admin credentials, for the simulated KubeVirt/CDI controllers and for test assertions. */
  admin: ClientNodeObjectApi;
  /** Faults the simulated controllers inject (none when the real controllers run); change it between steps. */
  faults: Set<Fault>;
  database: LabDatabase;
  stop(): Promise<void>;
}

export interface PlatformOptions {
  /** Play KubeVirt, CDI and the snapshotter with the simulator's controllers (default), or leave them to the real ones already running. */
  simulatedControllers?: boolean;
  /** Deadline of every provisioning step. */
  stepDeadlineMs?: number;
  /** Sessions that may exist at once (default: the product's). */
  maxConcurrentSessions?: number;
  /** Speed of the simulated controllers' model (default TIME_SCALE). */
  timeScale?: number;
}

/**
 * cks-lab as it runs in real-cluster mode — core's Lab, the SQLite store, startKubernetesCluster —
 * against the test API server with `token` (a ServiceAccount bound to deploy/'s RBAC), while
 * SimulatedControllers play KubeVirt, CDI and the snapshotter there with admin credentials, unless
 * the real controllers run (test/infra/control-plane).
 */
export async function startPlatform(cluster: TestCluster, token: string, options: PlatformOptions = {}): Promise<Platform> {
  const faults = new Set<Fault>();
  const admin = new ClientNodeObjectApi(kubeConfigOf(cluster));
  const controllers =
    options.simulatedControllers === false
      ? undefined
      : new SimulatedControllers({
          api: admin,
          model: DEFAULT_LATENCY_MODEL,
          timeScale: options.timeScale ?? TIME_SCALE,
          faults,
          logger: testLogger('simulated KubeVirt'),
        });
  controllers?.start();
  const config = {
    ...labConfig(options.stepDeadlineMs ?? DEADLINE_MS),
    maxConcurrentSessions: options.maxConcurrentSessions ?? DEFAULT_CONFIG.maxConcurrentSessions,
  };
  const logger = testLogger('cks-lab');
  const kube = await startKubernetesCluster({ settings: SETTINGS, logger, kubeConfig: kubeConfigOf(cluster, token) });
  const database = openDatabase(':memory:');
  const lab = new Lab({ cluster: kube.cluster, store: database.store, clock, ids, logger, config });
  await lab.start();
  return {
    lab,
    kube,
    admin,
    faults,
    database,
    async stop() {
      await lab.stop();
      controllers?.stop();
      kube.stop();
      admin.close();
      database.close();
    },
  };
}

/** cks-lab on the embedded simulator (in-memory API and simulated controllers), as `npm start` runs it, fast. */
export async function startSimulatedPlatform(): Promise<{ lab: Lab; api: MemoryObjectApi; stop(): Promise<void> }> {
  const logger = testLogger('cks-lab on the simulator');
  const simulated = await startSimulatedCluster({
    settings: SETTINGS,
    model: DEFAULT_LATENCY_MODEL,
    timeScale: TIME_SCALE,
    faults: new Set(),
    logger,
  });
  const database = openDatabase(':memory:');
  const lab = new Lab({ cluster: simulated.cluster, store: database.store, clock, ids, logger, config: labConfig(DEADLINE_MS) });
  await lab.start();
  return {
    lab,
    api: simulated.api,
    async stop() {
      await lab.stop();
      simulated.stop();
      database.close();
    },
  };
}
