import { readFileSync } from 'node:fs';
import type { ClusterSettings } from '@cks-lab/kubevirt';
import { load } from 'js-yaml';
import type { TestCluster } from '../../infra/cluster';
import { eventually } from './test-cluster';

/** What a cluster admin installs before cks-lab can snapshot (README "real cluster"), played on the test API server. */

export const STORAGE_CLASS = 'lab-rbd';
export const CSI_DRIVER = 'rbd.csi.ceph.com';

async function must(cluster: TestCluster, method: string, path: string, body?: unknown, contentType?: string): Promise<any> {
  const response = await cluster.request(method, path, body, contentType ? { contentType } : {});
  if (!response.ok && response.status !== 409) throw new Error(`${method} ${path} -> ${response.status}: ${response.text}`);
  return response.body;
}

/** The KubeVirt CR as virt-operator keeps it once it has deployed KubeVirt: its release and phase in status, feature gates in spec. */
export async function installKubeVirtCr(cluster: TestCluster, version: string, featureGates: string[] = []): Promise<void> {
  const crd = load(readFileSync(new URL('../fixtures/kubevirt-cr.crd.yaml', import.meta.url), 'utf8'));
  await must(cluster, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
  await eventually('kubevirts.kubevirt.io served', 30_000, async () => (await cluster.request('GET', '/apis/kubevirt.io/v1/kubevirts')).ok);
  await must(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kubevirt' } });
  const path = '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts';
  await must(cluster, 'POST', path, {
    apiVersion: 'kubevirt.io/v1',
    kind: 'KubeVirt',
    metadata: { name: 'kubevirt', namespace: 'kubevirt' },
    spec: {},
  });
  await must(
    cluster,
    'PATCH',
    `${path}/kubevirt`,
    { spec: { configuration: { developerConfiguration: { featureGates } } } },
    'application/merge-patch+json',
  );
  await must(
    cluster,
    'PATCH',
    `${path}/kubevirt/status`,
    { status: { phase: 'Deployed', observedKubeVirtVersion: version } },
    'application/merge-patch+json',
  );
}

/**
 * Minimal stand-in for the CDI operator's own CRD (cdis.cdi.kubevirt.io), which cdi-operator
 * installs and ../shared/crds does not carry: enough for the preflight to read the CDI CR.
 */
const CDI_CR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'cdis.cdi.kubevirt.io' },
  spec: {
    group: 'cdi.kubevirt.io',
    names: { kind: 'CDI', listKind: 'CDIList', plural: 'cdis', singular: 'cdi' },
    scope: 'Cluster',
    versions: [
      {
        name: 'v1beta1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

/** The CDI CR as cdi-operator keeps it once it has deployed CDI: phase and release in status. */
export async function installCdiCr(cluster: TestCluster, version = 'v1.64.0'): Promise<void> {
  await must(cluster, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', CDI_CR_CRD);
  await eventually(
    'cdis.cdi.kubevirt.io served',
    30_000,
    async () => (await cluster.request('GET', '/apis/cdi.kubevirt.io/v1beta1/cdis')).ok,
  );
  const path = '/apis/cdi.kubevirt.io/v1beta1/cdis';
  await must(cluster, 'POST', path, { apiVersion: 'cdi.kubevirt.io/v1beta1', kind: 'CDI', metadata: { name: 'cdi' }, spec: {} });
  await must(
    cluster,
    'PATCH',
    `${path}/cdi/status`,
    { status: { phase: 'Deployed', observedVersion: version } },
    'application/merge-patch+json',
  );
}

/** A default StorageClass on a CSI driver, the StorageProfile CDI keeps for it, and a VolumeSnapshotClass for that driver. */
export async function installSnapshotStorage(cluster: TestCluster): Promise<void> {
  await must(cluster, 'POST', '/apis/storage.k8s.io/v1/storageclasses', {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: STORAGE_CLASS, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    provisioner: CSI_DRIVER,
  });
  await installStorageProfile(cluster, STORAGE_CLASS, CSI_DRIVER);
  await installVolumeSnapshotClass(cluster, CSI_DRIVER);
}

/** What CDI knows of Ceph RBD (createRbdCapabilities, pkg/storagecapabilities/storagecapabilities.go, CDI v1.64.0). */
export const RBD_CLAIM_PROPERTY_SETS = [
  { accessModes: ['ReadWriteMany'], volumeMode: 'Block' },
  { accessModes: ['ReadWriteOnce'], volumeMode: 'Block' },
  { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' },
];

/**
 * The StorageProfile CDI's storage profile controller makes for a StorageClass, with the access and
 * volume modes it knows for the provisioner, which DataVolumes with `storage:` take (none: such
 * DataVolumes fail).
 */
export async function installStorageProfile(
  cluster: TestCluster,
  storageClass: string,
  provisioner: string,
  claimPropertySets: ReadonlyArray<{ accessModes: string[]; volumeMode: string }> = RBD_CLAIM_PROPERTY_SETS,
): Promise<void> {
  const path = '/apis/cdi.kubevirt.io/v1beta1/storageprofiles';
  await must(cluster, 'POST', path, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'StorageProfile',
    metadata: { name: storageClass },
    spec: {},
  });
  await must(
    cluster,
    'PATCH',
    `${path}/${storageClass}/status`,
    { status: { storageClass, provisioner, claimPropertySets } },
    'application/merge-patch+json',
  );
}

export async function installVolumeSnapshotClass(cluster: TestCluster, driver: string): Promise<void> {
  await must(cluster, 'POST', '/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses', {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name: `${driver.split('.')[0]}-snapshots` },
    driver,
    deletionPolicy: 'Delete',
  });
}

/** The base OS image: a PVC imported by CDI and the DataSource the bootstrap VMs clone from, Ready as CDI marks it. */
export async function installBaseImage(cluster: TestCluster, settings: ClusterSettings): Promise<void> {
  const { namespace, name } = settings.baseImage;
  await must(cluster, 'POST', `/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: settings.diskSize } } },
  });
  await must(cluster, 'POST', `/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datasources`, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataSource',
    metadata: { name, namespace },
    spec: { source: { pvc: { namespace, name } } },
    // DataSources have no status subresource: CDI's controller writes the status with the object.
    status: {
      source: { pvc: { namespace, name } },
      conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'DataSource is ready to be consumed' }],
    },
  });
}

/** Everything above: a cluster on which the preflight passes. */
export async function installSnapshotPrerequisites(cluster: TestCluster, settings: ClusterSettings): Promise<void> {
  await installKubeVirtCr(cluster, 'v1.9.0');
  await installCdiCr(cluster);
  await installSnapshotStorage(cluster);
  await installBaseImage(cluster, settings);
}
