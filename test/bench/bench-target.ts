import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '@cks-lab/core';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime } from '../../apps/web/src/server/runtime';
import { installSnapshotPrerequisites } from '../integration/support/cluster-fixtures';
import { installDeployRbac } from '../integration/support/deploy-manifests';
import { SETTINGS, startPlatform } from '../integration/support/platform';
import { startApiServer } from '../integration/support/test-cluster';
import { latencyBetween, type RequestHistograms, scrapeRequestHistograms } from './apiserver-latency';

/** What the provisioning benchmark drives: cks-lab's Lab on one kind of cluster. */
export interface BenchTarget {
  cluster: 'simulated' | 'kube';
  lab: Lab;
  /** Speed of the simulated KubeVirt/CDI model: modelled seconds × timeScale = wall seconds. */
  timeScale: number;
  /** API requests cks-lab itself has made (not the simulated controllers'). */
  apiRequests(): number;
  /** Marks the start of a measured batch; `batchReport` says what the cluster saw since. */
  beginBatch(): Promise<void>;
  batchReport(): Promise<Record<string, unknown>>;
  /** Facts about the cluster for the report (versions). */
  describe: Record<string, unknown>;
  close(): Promise<void>;
}

/** The embedded simulator, as `npm start` runs it: the production runtime over an in-memory API. */
export async function simulatedTarget(sessions: number, timeScale: number): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cks-lab-bench-'));
  const config = readServerConfig({
    SIM_TIME_SCALE: String(timeScale),
    LAB_DATA_DIR: dataDir,
    MAX_CONCURRENT_SESSIONS: String(sessions * 2 + 1),
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    // Measures the snapshot and bootstrap paths themselves.
    WARM_POOL_SIZE: '0',
  });
  const runtime = await createRuntime(config, { maintenance: false });
  return {
    cluster: 'simulated',
    lab: runtime.lab,
    timeScale,
    apiRequests: () => runtime.apiRequests(),
    beginBatch: async () => undefined,
    batchReport: async () => ({}),
    describe: {},
    async close() {
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A real kube-apiserver and etcd (test/infra), cks-lab in real-cluster mode as its deploy/
 * ServiceAccount, and the integration tier's simulated KubeVirt, CDI and snapshot controllers.
 */
export async function kubeTarget(sessions: number, timeScale: number): Promise<BenchTarget> {
  const cluster = await startApiServer();
  try {
    await installSnapshotPrerequisites(cluster, SETTINGS);
    const platform = await startPlatform(cluster, await installDeployRbac(cluster), {
      maxConcurrentSessions: sessions * 2 + 1,
      timeScale,
      stepDeadlineMs: 600_000,
    });
    let before: RequestHistograms = new Map();
    return {
      cluster: 'kube',
      lab: platform.lab,
      timeScale,
      apiRequests: () => platform.kube.api.requestCount,
      async beginBatch() {
        before = await scrapeRequestHistograms(cluster);
      },
      async batchReport() {
        return { apiServerRequestLatency: latencyBetween(before, await scrapeRequestHistograms(cluster)) };
      },
      describe: { kubeApiServer: cluster.version },
      async close() {
        await platform.stop();
        await cluster.stop();
      },
    };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
