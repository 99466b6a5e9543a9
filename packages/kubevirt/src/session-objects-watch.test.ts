import { type ClusterObjectSummary, type Logger, names } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KubevirtCluster } from './kubevirt-cluster';
import { DEFAULT_CLUSTER_SETTINGS } from './manifests/settings';
import type { ObjectApi } from './object-api';
import { DEFAULT_LATENCY_MODEL } from './simulator/latency-model';
import { type SimulatedCluster, startSimulatedCluster } from './simulator/simulated-cluster';

const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const running: SimulatedCluster[] = [];
afterEach(() => {
  for (const sim of running.splice(0)) sim.stop();
});

/** The simulator's API with a count of the watches open on it, to see that stopping closes them all. */
function countingWatches(api: ObjectApi): { api: ObjectApi; open: () => number } {
  let open = 0;
  const counted: ObjectApi = Object.create(api);
  counted.watch = async (...args) => {
    const handle = await api.watch(...args);
    open++;
    let stopped = false;
    return {
      stop: () => {
        if (!stopped) open--;
        stopped = true;
        handle.stop();
      },
    };
  };
  return { api: counted, open: () => open };
}

/** Resolves with the first reported list `done` accepts; rejects after 20 s. */
function reported(seen: ClusterObjectSummary[][], done: (objects: ClusterObjectSummary[]) => boolean): Promise<ClusterObjectSummary[]> {
  const deadline = Date.now() + 20_000;
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = seen.find(done);
      if (found) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`not reported within 20 s; last: ${JSON.stringify(seen.at(-1))}`));
      else setTimeout(check, 20);
    };
    check();
  });
}

const phaseOf = (objects: ClusterObjectSummary[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.name === name)?.phase;

describe('watchSessionObjects', { timeout: 60_000 }, () => {
  it('reports every change the controllers make, as sessionObjects reads it, and stops all its watches', async () => {
    const sim = await startSimulatedCluster({
      settings: DEFAULT_CLUSTER_SETTINGS,
      model: DEFAULT_LATENCY_MODEL,
      timeScale: 0.005,
      faults: new Set(),
      logger: silent,
    });
    running.push(sim);
    const watched = countingWatches(sim.platformApi);
    const cluster = new KubevirtCluster(watched.api, DEFAULT_CLUSTER_SETTINGS, 'simulated', () => sim.cluster.preflight());
    const sessionId = '0a0b0c0d';
    const vm = names.vm('control-plane', sessionId);

    // Watched before the namespace exists, as a page opened on a pending session does.
    const seen: ClusterObjectSummary[][] = [];
    const stop = cluster.watchSessionObjects(sessionId, (objects) => seen.push(objects));
    expect(await reported(seen, () => true)).toEqual([]);
    await cluster.ensureSessionBase(sessionId);
    await cluster.ensureVm(sessionId, 'control-plane', { kind: 'base-image' });

    // Nothing here reads the cluster again: the states arrive as the simulated controllers write them.
    await reported(seen, (objects) => phaseOf(objects, 'VirtualMachineInstance', vm) === 'Scheduling');
    const ready = await reported(seen, (objects) => phaseOf(objects, 'VirtualMachine', vm) === 'Ready');
    expect(phaseOf(ready, 'VirtualMachineInstance', vm)).toBe('Running');
    expect(new Set(seen.map((objects) => phaseOf(objects, 'VirtualMachine', vm)))).toContain('Starting');
    await cluster.waitVms(sessionId, ['control-plane'], 'ready', Date.now() + 20_000);
    expect(seen.at(-1)).toEqual(await cluster.sessionObjects(sessionId));

    expect(watched.open()).toBe(4);
    stop();
    expect(watched.open()).toBe(0);
    const after = seen.length;
    await cluster.deleteVms(sessionId, Date.now() + 20_000);
    expect(seen.length).toBe(after);
  });
});
