import type { Logger, Preflight } from '@cks-lab/core';
import { KubevirtCluster } from '../kubevirt-cluster';
import { LABELS } from '../manifests/labels';
import type { ClusterSettings } from '../manifests/settings';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from '../object-api';
import { apiVersionOf, R } from '../resources';
import { SimulatedControllers } from './controllers';
import { FAULTS, type Fault } from './faults';
import type { LatencyModel } from './latency-model';
import { MemoryObjectApi } from './memory-object-api';
import { PlatformObjectApi } from './platform-object-api';
import { SimulatedConsole } from './simulated-console';
import { StateJournal } from './state-journal';

export interface SimulatedClusterOptions {
  settings: ClusterSettings;
  model: LatencyModel;
  timeScale: number;
  faults: ReadonlySet<Fault>;
  logger: Logger;
  /** Journal file that makes the simulated cluster outlive the server; in memory only when absent. */
  statePath?: string;
}

export interface SimulatedCluster {
  cluster: KubevirtCluster;
  /** The raw API (without injected faults), for tests and benchmarks. */
  api: MemoryObjectApi;
  /** The platform's requests only (not the simulated controllers'). */
  platformApi: ObjectApi;
  /** The VMs' serial consoles, played by the simulator. */
  console: SimulatedConsole;
  stop(): void;
}

/** The embedded default (docs/architecture.md#simulator): our real adapter over an in-memory API whose controllers are simulated. */
export async function startSimulatedCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const journal = options.statePath ? new StateJournal(options.statePath, { logger: options.logger }) : null;
  const api = new MemoryObjectApi({ onMutation: journal ? (event) => journal.record(event) : undefined });
  if (journal) api.load(journal.load());
  await seedPlatformObjects(api, options.settings);
  const controllers = new SimulatedControllers({
    api,
    model: options.model,
    timeScale: options.timeScale,
    faults: options.faults,
    logger: options.logger,
  });
  controllers.start();
  const platformApi = new PlatformObjectApi(api, options.faults.has('api-error') ? 7 : null);
  const cluster = new KubevirtCluster(platformApi, options.settings, 'simulated', async () => simulatedPreflight(options));
  options.logger.info(
    { timeScale: options.timeScale, faults: [...options.faults], state: options.statePath ?? 'memory' },
    'SIMULATED cluster: KubeVirt, CDI and the snapshot controller are played by cks-lab, no VM runs',
  );
  const console = new SimulatedConsole(api, options.settings.k8sVersion);
  return {
    cluster,
    api,
    platformApi,
    console,
    stop: () => {
      controllers.stop();
      void console.close();
    },
  };
}

/** What an admin installs before the first session: the golden namespace and the base OS image. */
async function seedPlatformObjects(api: MemoryObjectApi, settings: ClusterSettings): Promise<void> {
  const { namespace, name } = settings.baseImage;
  const labels = { [LABELS.managedBy]: 'cks-lab-simulator' };
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace, labels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: settings.diskSize } } },
    },
    {
      apiVersion: apiVersionOf(R.dataSource),
      kind: 'DataSource',
      metadata: { name, namespace, labels },
      spec: { source: { pvc: { namespace, name } } },
    },
  ];
  for (const object of objects) {
    try {
      await api.create(object);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

function simulatedPreflight(options: SimulatedClusterOptions): Preflight {
  const faults = [...options.faults];
  const detail = `simulated (time scale ${options.timeScale}${faults.length ? `, faults: ${faults.map((f) => `${f} — ${FAULTS[f]}`).join('; ')}` : ''})`;
  return {
    checks: [
      'KubeVirt',
      'Snapshot feature gate',
      'CDI',
      'VolumeSnapshot API and class',
      'Multus',
      'vm-templates namespace',
      'base image DataSource',
    ].map((name) => ({ name, ok: true, detail })),
    snapshotSupported: true,
    snapshotUnsupportedReason: null,
  };
}
