/**
 * The kubelet of the test cluster's one node, reduced to what a kubelet reports to the API server:
 * the Node (capacity incl. KubeVirt's device-plugin resources, Ready), its Lease, and for every pod
 * the scheduler bound here: init containers completed, containers running, readiness from the
 * container's probe, and the final delete of a terminating pod. It decides nothing a control plane
 * decides; whether a probe passes or a container exits comes from `workloads` (the guest model of
 * virt-handler's stand-in for virt-launcher pods).
 */
import type { TestCluster } from '../cluster';
import { expectOk, reconcileLoop } from './reconcile-loop';

export const NODE_NAME = 'cks-lab-test-node';

export interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
  };
  spec: {
    nodeName?: string;
    restartPolicy?: string;
    containers: Array<{ name: string; image: string; command?: string[]; readinessProbe?: unknown }>;
    initContainers?: Array<{ name: string; image: string }>;
    volumes?: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }>;
  };
  status?: { phase?: string; startTime?: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: unknown[] };
}

/** What the containers of a pod do: whether a probe passes, when the main process exits. */
export interface Workloads {
  /** Whether `container`'s readiness probe passes now. */
  ready(pod: Pod, container: string): boolean;
  /** The pod's main process has exited (0: success); undefined while it runs. */
  exitCode(pod: Pod): number | undefined;
  /** Whether SIGTERM makes the pod's main process end on its own time (a guest shutting down), so
   * the kubelet waits for its exit, up to the pod's grace period, before the final delete. */
  exitsGracefully?(pod: Pod): boolean;
  /** What the exited main container wrote to its termination log, if anything. */
  terminationMessage?(pod: Pod): Promise<string | undefined>;
}

export interface Kubelet {
  readonly nodeName: string;
  stop(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export async function startKubelet(cluster: TestCluster, workloads: Workloads): Promise<Kubelet> {
  await expectOk(
    cluster.request('POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: NODE_NAME,
        labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
      },
    }),
    `create Node ${NODE_NAME}`,
    [409],
  );
  const capacity = {
    cpu: '32',
    memory: '128Gi',
    pods: '250',
    'ephemeral-storage': '200Gi',
    // What virt-handler's device plugins advertise: virt-launcher pods request them.
    'devices.kubevirt.io/kvm': '1k',
    'devices.kubevirt.io/tun': '1k',
    'devices.kubevirt.io/vhost-net': '1k',
  };
  const heartbeat = async () => {
    const time = now();
    await expectOk(
      cluster.request(
        'PATCH',
        `/api/v1/nodes/${NODE_NAME}/status`,
        {
          status: {
            capacity,
            allocatable: capacity,
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'test node stand-in',
                lastHeartbeatTime: time,
                lastTransitionTime: time,
              },
            ],
            addresses: [{ type: 'Hostname', address: NODE_NAME }],
            nodeInfo: {
              kubeletVersion: 'test-stand-in',
              architecture: 'amd64',
              operatingSystem: 'linux',
              containerRuntimeVersion: 'none',
              kernelVersion: '',
              osImage: '',
              kubeProxyVersion: '',
              machineID: '',
              systemUUID: '',
              bootID: '',
            },
          },
        },
        { contentType: 'application/strategic-merge-patch+json' },
      ),
      'node status',
    );
  };
  // The node Lease is the kubelet's cheap heartbeat; the node lifecycle controller reads it with the status.
  const renewLease = async () => {
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NODE_NAME, namespace: 'kube-node-lease' },
      spec: { holderIdentity: NODE_NAME, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    };
    const path = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE_NAME}`;
    const updated = await cluster.request('PATCH', path, { spec: lease.spec }, { contentType: 'application/merge-patch+json' });
    if (updated.status === 404)
      await expectOk(cluster.request('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', lease), 'node lease', [409]);
    else if (!updated.ok) throw new Error(`node lease -> ${updated.status}: ${updated.text.slice(0, 300)}`);
  };
  await heartbeat();
  await renewLease();
  const heartbeats = setInterval(() => void Promise.all([heartbeat(), renewLease()]).catch(() => undefined), 10_000);

  const pods = reconcileLoop<Pod>(cluster.request, `/api/v1/pods?fieldSelector=spec.nodeName%3D${NODE_NAME}`, (pod) =>
    syncPod(cluster, pod, workloads),
  );
  return {
    nodeName: NODE_NAME,
    async stop() {
      clearInterval(heartbeats);
      await pods.stop();
    },
  };
}

async function syncPod(cluster: TestCluster, pod: Pod, workloads: Workloads): Promise<void> {
  const podPath = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`;
  if (pod.metadata.deletionTimestamp) {
    const graceEnds = Date.parse(pod.metadata.deletionTimestamp);
    if (workloads.exitsGracefully?.(pod) && workloads.exitCode(pod) === undefined && Date.now() < graceEnds) return;
    // The kubelet's final delete, once the containers are gone.
    await expectOk(
      cluster.request('DELETE', podPath, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }),
      `delete pod ${podPath}`,
      [404],
    );
    return;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
  // Mounting a claim whose volume the CSI controller expanded finishes the expansion on the node.
  for (const volume of pod.spec.volumes ?? []) {
    if (volume.persistentVolumeClaim) await expandOnNode(cluster, pod.metadata.namespace, volume.persistentVolumeClaim.claimName);
  }
  const exitCode = workloads.exitCode(pod);
  const message = exitCode === undefined ? undefined : await workloads.terminationMessage?.(pod);
  const startedAt = pod.status?.startTime ?? now();
  const containerStatuses = pod.spec.containers.map((c) => {
    const ready = exitCode === undefined && (!c.readinessProbe || workloads.ready(pod, c.name));
    return {
      name: c.name,
      image: c.image,
      imageID: '',
      containerID: `test://${pod.metadata.uid}/${c.name}`,
      ready,
      started: exitCode === undefined,
      restartCount: 0,
      state:
        exitCode === undefined
          ? { running: { startedAt } }
          : {
              terminated: {
                exitCode,
                reason: exitCode === 0 ? 'Completed' : 'Error',
                startedAt,
                finishedAt: now(),
                ...(message ? { message } : {}),
              },
            },
    };
  });
  const allReady = containerStatuses.every((c) => c.ready);
  const phase = exitCode === undefined ? 'Running' : exitCode === 0 ? 'Succeeded' : 'Failed';
  const condition = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: startedAt,
  });
  const status = {
    phase,
    startTime: startedAt,
    hostIP: '127.0.0.1',
    podIP: podIp(pod.metadata.uid),
    podIPs: [{ ip: podIp(pod.metadata.uid) }],
    conditions: [
      condition('PodReadyToStartContainers', true),
      condition('Initialized', true),
      condition('ContainersReady', allReady),
      condition('Ready', allReady),
      condition('PodScheduled', true),
    ],
    initContainerStatuses: (pod.spec.initContainers ?? []).map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: true,
      restartCount: 0,
      state: { terminated: { exitCode: 0, reason: 'Completed', startedAt, finishedAt: startedAt } },
    })),
    containerStatuses,
  };
  const current = JSON.stringify({
    phase: pod.status?.phase,
    ready: pod.status?.conditions?.find((c) => c.type === 'Ready')?.status,
    cs: pod.status?.containerStatuses?.length,
  });
  const next = JSON.stringify({ phase, ready: allReady ? 'True' : 'False', cs: containerStatuses.length });
  if (current === next) return;
  await expectOk(
    cluster.request('PATCH', `${podPath}/status`, { status }, { contentType: 'application/merge-patch+json' }),
    `pod status ${podPath}`,
    [404],
  );
}

/**
 * The kubelet's half of a CSI volume expansion (NodeExpandVolume): the claim's capacity becomes the
 * volume's and the FileSystemResizePending condition the external-resizer set goes away.
 */
async function expandOnNode(cluster: TestCluster, namespace: string, claimName: string): Promise<void> {
  const claimPath = `/api/v1/namespaces/${namespace}/persistentvolumeclaims/${claimName}`;
  const claim = await cluster.request('GET', claimPath);
  const conditions: Array<{ type: string }> = claim.body?.status?.conditions ?? [];
  if (!claim.ok || !conditions.some((c) => c.type === 'FileSystemResizePending') || !claim.body.spec.volumeName) return;
  const volume = await cluster.request('GET', `/api/v1/persistentvolumes/${claim.body.spec.volumeName}`);
  if (!volume.ok) return;
  await expectOk(
    cluster.request('PUT', `${claimPath}/status`, {
      ...claim.body,
      status: {
        ...claim.body.status,
        capacity: { ...claim.body.status.capacity, storage: volume.body.spec.capacity.storage },
        conditions: conditions.filter((c) => c.type !== 'FileSystemResizePending'),
        allocatedResourceStatuses: undefined,
      },
    }),
    `node expansion of ${namespace}/${claimName}`,
    [409],
  );
}

/** A stable address per pod in the pod CIDR the test cluster pretends to have (nothing is ever sent to it). */
function podIp(uid: string): string {
  const n = parseInt(uid.replace(/-/g, '').slice(0, 4), 16);
  return `10.244.${(n >> 8) & 0xff}.${(n & 0xfe) + 1}`;
}
