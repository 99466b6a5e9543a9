import { GOLDEN_NAMESPACE, type GoldenDisk, names, type Role, ValidationError } from '@cks-lab/core';
import type { V1beta1DataSource, V1beta1DataVolume } from '@kubevirt-ui-ext/kubevirt-api/containerized-data-importer';
import type { V1beta1VirtualMachineSnapshot } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { KubeObject } from '../object-api';
import { R } from '../resources';
import { kubeObject } from './kube-object';
import { ANNOTATIONS, goldenLabels, LABELS } from './labels';
import type { ClusterSettings } from './settings';
import { ROOT_VOLUME } from './virtual-machine';

/**
 * Golden image, build step 3 (docs/architecture.md#golden-image): an offline snapshot of one of the source session's
 * halted VMs, in the session namespace (KubeVirt snapshots name their VM in their own namespace).
 * A failed snapshot stays until deleted; 10 minutes (not the 5-minute default) covers slow CSI snapshots.
 */
export function vmSnapshot(sessionId: string, role: Role, version: number): KubeObject & V1beta1VirtualMachineSnapshot {
  return kubeObject<V1beta1VirtualMachineSnapshot>(
    R.vmSnapshot,
    {
      name: names.goldenSnapshot(role, version),
      namespace: names.namespace(sessionId),
      labels: { ...goldenLabels(version, role), [LABELS.session]: sessionId },
    },
    {
      spec: {
        source: { apiGroup: 'kubevirt.io', kind: 'VirtualMachine', name: names.vm(role, sessionId) },
        failureDeadline: '10m',
      },
    },
  );
}

/**
 * Build step 5: copies the disk's VolumeSnapshot from the session namespace into vm-templates
 * (CDI crosses namespaces; VM snapshots do not) as this version's PVC. Bound at once: the copy has no
 * consumer pod to wait for on WaitForFirstConsumer storage.
 *
 * Size: none, so CDI gives the copy exactly the snapshot's restoreSize (containerized-data-importer
 * v1.64.0 pkg/controller/datavolume/snapshot-clone-controller.go detectCloneSize). A requested size
 * would be inflated by the filesystem overhead once more on Filesystem storage (the session's disk
 * already was), making the golden PVC bigger than the disks cloned from it. Only when the CSI
 * driver reports no restoreSize does CDI need one: `explicitSize`.
 */
export function goldenCopyDataVolume(
  version: number,
  disk: GoldenDisk,
  sourceNamespace: string,
  settings: ClusterSettings,
  explicitSize?: string,
): KubeObject & V1beta1DataVolume {
  if (!disk.volumeSnapshot) throw new ValidationError(`golden v${version} ${disk.role} disk has no VolumeSnapshot to copy from`);
  return kubeObject<V1beta1DataVolume>(
    R.dataVolume,
    {
      name: disk.pvc,
      namespace: GOLDEN_NAMESPACE,
      labels: goldenLabels(version, disk.role),
      annotations: { [ANNOTATIONS.bindImmediate]: 'true' },
    },
    {
      spec: {
        source: { snapshot: { namespace: sourceNamespace, name: disk.volumeSnapshot } },
        storage: {
          ...(explicitSize ? { resources: { requests: { storage: explicitSize } } } : {}),
          ...(settings.storageClassName ? { storageClassName: settings.storageClassName } : {}),
        },
      },
    },
  );
}

/**
 * Build step 6: the stable DataSource of a role, pointing at this version's copy. Both roles'
 * DataSources are switched together, only when both copies have succeeded.
 */
export function goldenDataSource(role: Role, version: number): KubeObject & V1beta1DataSource {
  return kubeObject<V1beta1DataSource>(
    R.dataSource,
    { name: names.goldenDataSource(role), namespace: GOLDEN_NAMESPACE, labels: goldenLabels(version, role) },
    { spec: { source: { pvc: { namespace: GOLDEN_NAMESPACE, name: names.goldenCopy(role, version) } } } },
  );
}

/**
 * The name KubeVirt gives the VolumeSnapshot of a VM volume in a VirtualMachineSnapshot:
 * `vmsnapshot-<snapshot uid>-volume-<volume>`. The adapter reads the real name from the
 * VirtualMachineSnapshotContent; this is for offline illustrations and tests.
 */
export function kubevirtVolumeSnapshotName(snapshotUid: string, volume: string = ROOT_VOLUME): string {
  return `vmsnapshot-${snapshotUid}-volume-${volume}`;
}
