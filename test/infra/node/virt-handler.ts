/**
 * virt-handler of the test node, reduced to what it reports to the API server, with the guest
 * played by a timing model: it labels and heartbeats the node (virt-controller's node controller
 * fails VMIs on nodes whose heartbeat is stale: pkg/virt-controller/watch/node/node.go), takes a
 * VMI that virt-controller handed over (phase Scheduled on this node: pkg/virt-controller/watch/vmi/
 * lifecycle.go) to Running once the "domain" started, reports the guest agent as connected once the
 * guest booted, and shuts the guest down when the VMI is deleted (phase Succeeded; virt-controller
 * then removes the pod and the finalizer). The Ready condition is not set here: virt-controller
 * copies it from the launcher pod, whose readiness probe the kubelet runs against this guest model.
 *
 * It runs under KubeVirt's own virt-handler ServiceAccount, so virt-api's VMI update webhook and
 * the RBAC KubeVirt's operator installs for virt-handler judge every update.
 */
import type { TestCluster } from '../cluster';
import { NODE_NAME, type Pod, type Workloads } from './kubelet';
import { expectOk, type Requester, reconcileLoop } from './reconcile-loop';

export interface GuestTimings {
  /** Domain defined and started: Scheduled -> Running. */
  domainStartMs: number;
  /** Running -> guest agent connected (cloud-init done). */
  agentMs: number;
  /** Running -> the VM's readiness probe passes. */
  readyMs: number;
  /** Deletion -> guest powered off. */
  shutdownMs: number;
}

/** Unlisted this long (several re-list intervals), a VMI is gone and its domain is killed. */
const VMI_GONE_MS = 2_000;

export const DEFAULT_GUEST_TIMINGS: GuestTimings = { domainStartMs: 300, agentMs: 600, readyMs: 1_200, shutdownMs: 300 };

interface Vmi {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { domain: { devices: { interfaces?: Array<{ name: string; macAddress?: string }> } }; readinessProbe?: unknown };
  status?: { phase?: string; nodeName?: string; conditions?: Array<{ type: string; status: string }> };
}

interface Guest {
  /** Last time the VMI was listed: virt-handler kills the domain of a VMI that is gone. */
  seenAt: number;
  scheduledAt?: number;
  runningAt?: number;
  deletedAt?: number;
  poweredOff?: boolean;
}

export interface VirtHandler extends Workloads {
  /** Changes the guest model for guests that start from now on. */
  setTimings(timings: Partial<GuestTimings>): void;
  stop(): Promise<void>;
}

export async function startVirtHandler(
  cluster: TestCluster,
  request: Requester,
  initial: Partial<GuestTimings> = {},
): Promise<VirtHandler> {
  let timings: GuestTimings = { ...DEFAULT_GUEST_TIMINGS, ...initial };
  const guests = new Map<string, Guest & { timings: GuestTimings }>();
  const guestOf = (uid: string) => {
    let guest = guests.get(uid);
    if (!guest) guests.set(uid, (guest = { timings, seenAt: Date.now() }));
    guest.seenAt = Date.now();
    return guest;
  };

  const heartbeat = async () => {
    await expectOk(
      cluster.request(
        'PATCH',
        `/api/v1/nodes/${NODE_NAME}`,
        // What virt-handler's node labeller reports: the node runs VMs, of the q35 machine type that
        // virt-controller puts in every amd64 launcher pod's node selector (services/nodeselectorrenderer.go).
        {
          metadata: {
            labels: { 'kubevirt.io/schedulable': 'true', 'machine-type.node.kubevirt.io/q35': 'true' },
            annotations: { 'kubevirt.io/heartbeat': kubeTime() },
          },
        },
        { contentType: 'application/strategic-merge-patch+json' },
      ),
      'virt-handler node heartbeat',
    );
  };
  await heartbeat();
  const heartbeats = setInterval(() => void heartbeat().catch(() => undefined), 15_000);

  const sync = async (vmi: Vmi) => {
    if (vmi.status?.nodeName !== NODE_NAME) return;
    const guest = guestOf(vmi.metadata.uid);
    const t = Date.now();
    const phase = vmi.status?.phase;
    let next: Record<string, unknown> | undefined;
    if (vmi.metadata.deletionTimestamp && (phase === 'Running' || phase === 'Scheduled')) {
      guest.deletedAt ??= t;
      if (t - guest.deletedAt >= guest.timings.shutdownMs) {
        guest.poweredOff = true;
        next = { phase: 'Succeeded', conditions: withoutCondition(vmi, 'AgentConnected') };
      }
    } else if (phase === 'Scheduled') {
      guest.scheduledAt ??= t;
      if (t - guest.scheduledAt >= guest.timings.domainStartMs) {
        guest.runningAt = t;
        next = {
          phase: 'Running',
          interfaces: (vmi.spec.domain.devices.interfaces ?? []).map((iface) => ({
            name: iface.name,
            mac: iface.macAddress,
            infoSource: 'domain',
          })),
          machine: { type: 'q35' },
        };
      }
    } else if (phase === 'Running' && guest.runningAt === undefined) {
      // Taken over after a restart of this stand-in: the guest has been up all along.
      guest.runningAt = t - guest.timings.readyMs;
    } else if (phase === 'Running' && t - guest.runningAt! >= guest.timings.agentMs && !hasCondition(vmi, 'AgentConnected')) {
      next = {
        conditions: [
          ...withoutCondition(vmi, 'AgentConnected'),
          { type: 'AgentConnected', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime() },
        ],
        guestOSInfo: { id: 'ubuntu', name: 'Ubuntu', version: '24.04', kernelRelease: '6.8.0-test' },
      };
    }
    if (!next) return;
    // virt-handler writes the whole VMI (Update; KubeVirt v1.8's VMI CRD has no status subresource).
    // Not a merge patch: its nulls would delete fields (lastProbeTime) that virt-controller's
    // JSON-patch `test` operations expect to find as written.
    await expectOk(
      request('PUT', `/apis/kubevirt.io/v1/namespaces/${vmi.metadata.namespace}/virtualmachineinstances/${vmi.metadata.name}`, {
        ...vmi,
        status: { ...vmi.status, ...next },
      }),
      `VMI ${vmi.metadata.namespace}/${vmi.metadata.name} status`,
      [404, 409],
    );
  };
  const loop = reconcileLoop<Vmi>(
    request,
    `/apis/kubevirt.io/v1/virtualmachineinstances?labelSelector=kubevirt.io%2FnodeName%3D${NODE_NAME}`,
    sync,
  );

  const launcherGuest = (pod: Pod) => {
    const uid = pod.metadata.labels?.['kubevirt.io/created-by'];
    return uid ? guests.get(uid) : undefined;
  };
  return {
    ready(pod) {
      const guest = launcherGuest(pod);
      return !!guest?.runningAt && !guest.poweredOff && Date.now() - guest.runningAt >= guest.timings.readyMs;
    },
    exitCode(pod) {
      const guest = launcherGuest(pod);
      if (!guest) return undefined;
      return guest.poweredOff || Date.now() - guest.seenAt > VMI_GONE_MS ? 0 : undefined;
    },
    setTimings(partial) {
      timings = { ...timings, ...partial };
    },
    async stop() {
      clearInterval(heartbeats);
      await loop.stop();
    },
  };
}

const hasCondition = (vmi: Vmi, type: string) => (vmi.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
const withoutCondition = (vmi: Vmi, type: string) => (vmi.status?.conditions ?? []).filter((c) => c.type !== type);

/**
 * A time as Go's metav1.Time writes it (RFC 3339, whole seconds). Custom resources keep the JSON as
 * sent, and virt-controller patches VMI conditions with JSON-patch `test` operations against its
 * own serialization: a millisecond here would make every such patch fail.
 */
const kubeTime = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
