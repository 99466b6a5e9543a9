import type { V1beta1DataSource, V1beta1DataVolume } from '@kubevirt-ui-ext/kubevirt-api/containerized-data-importer';
import type {
  IoK8sApiCoreV1Namespace,
  IoK8sApiCoreV1PersistentVolumeClaim,
  IoK8sApiCoreV1Secret,
} from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import type {
  V1beta1VirtualMachineSnapshot,
  V1beta1VirtualMachineSnapshotContent,
  V1VirtualMachine,
  V1VirtualMachineInstance,
} from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import type { KubeObject } from './object-api';

/**
 * What the API returns, typed by the KubeVirt, CDI and Kubernetes OpenAPI types of
 * @kubevirt-ui-ext/kubevirt-api: their metadata leaves `name` optional where a stored object always
 * has one, so metadata is ours.
 */
export type Read<T> = Omit<T, 'metadata' | 'apiVersion' | 'kind'> & KubeObject;

export type VirtualMachine = Read<V1VirtualMachine>;
export type VirtualMachineInstance = Read<V1VirtualMachineInstance>;
export type VirtualMachineSnapshot = Read<V1beta1VirtualMachineSnapshot>;
export type VirtualMachineSnapshotContent = Read<V1beta1VirtualMachineSnapshotContent>;
export type DataVolume = Read<V1beta1DataVolume>;
export type DataSource = Read<V1beta1DataSource>;
export type PersistentVolumeClaim = Read<IoK8sApiCoreV1PersistentVolumeClaim>;
export type Namespace = Read<IoK8sApiCoreV1Namespace>;
export type Secret = Read<IoK8sApiCoreV1Secret>;
/** The CSI VolumeSnapshot (snapshot.storage.k8s.io/v1), which the typed package lacks: the fields read. */
export type VolumeSnapshot = KubeObject & {
  status?: { readyToUse?: boolean; restoreSize?: string | number; error?: { message?: string } };
};
