/** The Kubernetes resource types cks-lab creates or reads, with the paths a real API server serves them at. */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

const type = (group: string, version: string, kind: string, plural: string, namespaced = true): ResourceType => ({
  group,
  version,
  kind,
  plural,
  namespaced,
});

export const R = {
  namespace: type('', 'v1', 'Namespace', 'namespaces', false),
  secret: type('', 'v1', 'Secret', 'secrets'),
  service: type('', 'v1', 'Service', 'services'),
  pvc: type('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  networkPolicy: type('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies'),
  roleBinding: type('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings'),
  storageClass: type('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false),
  nad: type('k8s.cni.cncf.io', 'v1', 'NetworkAttachmentDefinition', 'network-attachment-definitions'),
  vm: type('kubevirt.io', 'v1', 'VirtualMachine', 'virtualmachines'),
  vmi: type('kubevirt.io', 'v1', 'VirtualMachineInstance', 'virtualmachineinstances'),
  dataVolume: type('cdi.kubevirt.io', 'v1beta1', 'DataVolume', 'datavolumes'),
  dataSource: type('cdi.kubevirt.io', 'v1beta1', 'DataSource', 'datasources'),
  vmSnapshot: type('snapshot.kubevirt.io', 'v1beta1', 'VirtualMachineSnapshot', 'virtualmachinesnapshots'),
  vmSnapshotContent: type('snapshot.kubevirt.io', 'v1beta1', 'VirtualMachineSnapshotContent', 'virtualmachinesnapshotcontents'),
  volumeSnapshot: type('snapshot.storage.k8s.io', 'v1', 'VolumeSnapshot', 'volumesnapshots'),
  volumeSnapshotClass: type('snapshot.storage.k8s.io', 'v1', 'VolumeSnapshotClass', 'volumesnapshotclasses', false),
} as const satisfies Record<string, ResourceType>;

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

const byKind = new Map(Object.values(R).map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));

export function resourceTypeOf(object: { apiVersion: string; kind: string }): ResourceType {
  const found = byKind.get(`${object.apiVersion}/${object.kind}`);
  if (!found) throw new Error(`unknown resource ${object.apiVersion} ${object.kind}`);
  return found;
}
