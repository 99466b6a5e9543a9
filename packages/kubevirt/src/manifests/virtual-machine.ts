import { type DiskSource, GOLDEN_NAMESPACE, guestIdentity, names, type Role } from '@cks-lab/core';
import type { IoK8sApiCoreV1Secret } from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import type { V1DataVolumeTemplateSpec, V1Probe, V1VirtualMachine } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { POD_NIC_MAC } from '../guest/netplan';
import { READINESS_SCRIPT_PATH } from '../guest/readiness-script';
import type { KubeObject } from '../object-api';
import { R } from '../resources';
import { kubeObject } from './kube-object';
import { goldenVersionLabel, LABELS, roleLabels } from './labels';
import type { ClusterSettings } from './settings';

/** Name of the VM's root disk volume; KubeVirt names a snapshot's VolumeSnapshots after it. */
export const ROOT_VOLUME = 'root';
const CLOUD_INIT_VOLUME = 'cloudinit';
/** Interface and network names inside the VM spec. */
const POD_NETWORK = 'default';
const LAB_NETWORK = 'lab';
/** Key of the user data in the cloud-init Secret (KubeVirt reads `userdata` or `userData`). */
export const USER_DATA_KEY = 'userdata';

/**
 * A lab VM: always running, its root disk cloned by a
 * `dataVolumeTemplates` entry, fixed hostname and MACs, cloud-init from a Secret, and the guest
 * readiness check as its readiness probe so `status.ready` is the one thing to watch.
 */
export function virtualMachine(
  sessionId: string,
  role: Role,
  source: DiskSource,
  settings: ClusterSettings,
): KubeObject & V1VirtualMachine {
  const identity = guestIdentity[role];
  const { cores, memory } = settings.resources[role];
  const rootDisk = names.rootDisk(role, sessionId);
  const labels = { ...roleLabels(sessionId, role), ...(source.kind === 'golden' ? goldenVersionLabel(source.version) : {}) };
  return kubeObject<V1VirtualMachine>(
    R.vm,
    { name: names.vm(role, sessionId), namespace: names.namespace(sessionId), labels },
    {
      spec: {
        runStrategy: 'Always',
        dataVolumeTemplates: [rootDiskTemplate(rootDisk, source, settings)],
        template: {
          // The API Service selects the control plane's virt-launcher pod by these labels.
          metadata: { labels: { [LABELS.session]: sessionId, [LABELS.role]: role } },
          spec: {
            // The node name baked into the cluster; a restored node must keep it.
            hostname: identity.hostname,
            domain: {
              cpu: { cores },
              memory: { guest: memory },
              devices: {
                disks: [
                  { name: ROOT_VOLUME, disk: { bus: 'virtio' } },
                  { name: CLOUD_INIT_VOLUME, disk: { bus: 'virtio' } },
                ],
                interfaces: [
                  // Egress and platform access (the API Service) through the pod network. A fixed
                  // MAC: without one each start gets a new one, and the guest's MAC-matched network
                  // configuration (cloud-init's, rendered once per instance) would no longer match
                  // after a restart, such as the golden build's halt and restart.
                  { name: POD_NETWORK, masquerade: {}, macAddress: POD_NIC_MAC[role] },
                  // The fixed node address; the guest's netplan matches this MAC.
                  { name: LAB_NETWORK, bridge: {}, macAddress: identity.mac },
                ],
              },
            },
            networks: [
              { name: POD_NETWORK, pod: {} },
              { name: LAB_NETWORK, multus: { networkName: names.network() } },
            ],
            readinessProbe: readinessProbe(role, source),
            volumes: [
              { name: ROOT_VOLUME, dataVolume: { name: rootDisk } },
              { name: CLOUD_INIT_VOLUME, cloudInitNoCloud: { secretRef: { name: names.cloudInit(role, sessionId) } } },
            ],
          },
        },
      },
    },
  );
}

/**
 * Golden: the pinned version's PVC in vm-templates, not the stable DataSource. The DataSources are
 * switched to a new version in place by each golden build; a run pins its version once, so both
 * VMs — and a run resumed after a restart — clone the same pair even when a switch happens in
 * between, and garbage collection keeps that version while the run is unfinished.
 * No size: CDI sizes the clone from the golden PVC (containerized-data-importer v1.64.0
 * pkg/controller/datavolume/pvc-clone-controller.go detectCloneSize). A requested size is inflated
 * by the filesystem overhead on Filesystem storage, and the golden PVC already carries that
 * overhead (it holds a copy of an inflated disk): CDI's clone planner would refuse the smaller
 * target for ever (pkg/controller/clone/planner.go validateSourcePVC).
 * Base image: the admin-configured DataSource, grown to the configured disk size (the bootstrap
 * strategy installs everything).
 */
function rootDiskTemplate(name: string, source: DiskSource, settings: ClusterSettings): V1DataVolumeTemplateSpec {
  const storageClass = settings.storageClassName ? { storageClassName: settings.storageClassName } : {};
  if (source.kind === 'golden') {
    return { metadata: { name }, spec: { source: { pvc: { namespace: GOLDEN_NAMESPACE, name: source.pvc } }, storage: storageClass } };
  }
  const { namespace, name: dataSource } = settings.baseImage;
  const storage = { resources: { requests: { storage: settings.diskSize } }, ...storageClass };
  return { metadata: { name }, spec: { sourceRef: { kind: 'DataSource', namespace, name: dataSource }, storage } };
}

/**
 * Runs the guest readiness check (node status lies for ~40 s after a clone) through the guest agent. Control plane: the whole
 * cluster (API /readyz, fresh node Leases, system pods started since boot, the expected number of
 * nodes); worker: its kubelet is healthy and it joined and is Ready.
 *
 * On the bootstrap path the worker is created only after the control plane is ready, so the
 * control plane cannot wait for two nodes there: it expects one, and the worker's own probe
 * proves the join. Restored (golden) control planes expect both nodes.
 *
 * Timing: the first check after 15 s of boot, every 5 s; 3 failures (15 s) to turn unready again.
 * The timeout covers the check's few kubectl calls (each bounded to 5 s by the script).
 */
function readinessProbe(role: Role, source: DiskSource): V1Probe {
  const expectNodes = role === 'control-plane' && source.kind === 'base-image' ? ['1'] : [];
  return {
    exec: { command: [READINESS_SCRIPT_PATH, ...expectNodes] },
    initialDelaySeconds: 15,
    periodSeconds: 5,
    timeoutSeconds: 10,
    failureThreshold: 3,
  };
}

/** The VM's cloud-init user data; a Secret (not inline) because bootstrap user data holds the CA key and the join token. */
export function cloudInitSecret(sessionId: string, role: Role, userData: string): KubeObject & IoK8sApiCoreV1Secret {
  return kubeObject<IoK8sApiCoreV1Secret>(
    R.secret,
    { name: names.cloudInit(role, sessionId), namespace: names.namespace(sessionId), labels: roleLabels(sessionId, role) },
    { type: 'Opaque', data: { [USER_DATA_KEY]: Buffer.from(userData, 'utf8').toString('base64') } },
  );
}
