/**
 * The real-cluster preflight against a fake API server that answers as kube-apiserver does (404
 * with the object's name for a missing object, without it for a path not served, 403 with the
 * missing permission), modelled on what KubeVirt v1.8.0 and CDI v1.64.0 do with what it reads.
 * test/integration/preflight.test.ts runs it against a real API server.
 */
import { selectStrategy } from '@cks-lab/core';
import { KubeConfig } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { clusterSettings } from '../manifests/settings';
import { httpError } from './kube-errors';
import type { KubeRequest } from './kube-transport';
import { kubernetesPreflight, type PreflightTransport } from './preflight';

type Obj = {
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; creationTimestamp?: string };
  [field: string]: any;
};

const key = (groupVersion: string, plural: string, namespace: string | undefined, name: string) =>
  `${groupVersion}/${plural}/${namespace ?? ''}/${name}`;

/** GET-only API server: discovery per group version, objects by path, cluster-wide lists, 403s by path prefix. */
class FakeApiServer implements PreflightTransport {
  readonly server = 'https://fake-apiserver:6443';
  readonly requests: string[] = [];
  /** Paths starting with one of these answer 403. */
  readonly forbidden = new Set<string>();
  private readonly served = new Map<string, Set<string>>();
  private readonly objects = new Map<string, Obj>();

  serve(groupVersion: string, ...plurals: string[]): void {
    this.served.set(groupVersion, new Set(plurals));
  }

  unserve(groupVersion: string, plural: string): void {
    this.served.get(groupVersion)?.delete(plural);
  }

  put(groupVersion: string, plural: string, object: Obj): void {
    this.objects.set(key(groupVersion, plural, object.metadata.namespace, object.metadata.name), structuredClone(object));
  }

  remove(groupVersion: string, plural: string, name: string, namespace?: string): void {
    this.objects.delete(key(groupVersion, plural, namespace, name));
  }

  /** Changes a stored object in place. */
  edit(groupVersion: string, plural: string, name: string, change: (object: Obj) => void, namespace?: string): void {
    const object = this.objects.get(key(groupVersion, plural, namespace, name));
    if (!object) throw new Error(`no ${plural} ${name} to edit`);
    change(object);
  }

  async json<T>(req: KubeRequest): Promise<T> {
    const { path, operation } = req;
    this.requests.push(path);
    if ([...this.forbidden].some((prefix) => path.startsWith(prefix))) {
      throw httpError(operation, 403, { message: `forbidden: User "system:serviceaccount:cks-lab:cks-lab" cannot get ${path}`, code: 403 });
    }
    if (path === '/version') return { gitVersion: 'v1.35.4' } as T;
    const match = /^(?:\/api\/(v1)|\/apis\/([^/]+\/[^/]+))(\/.*)?$/.exec(path);
    if (!match) throw httpError(operation, 404, { message: 'the server could not find the requested resource' });
    const groupVersion = (match[1] ?? match[2])!;
    const rest = (match[3] ?? '').split('/').filter(Boolean);
    const served = this.served.get(groupVersion);
    const notServed = () => httpError(operation, 404, { message: 'the server could not find the requested resource' });
    if (rest.length === 0) {
      if (!served) throw notServed();
      return { resources: [...served].map((name) => ({ name })) } as T;
    }
    const [namespace, plural, name] =
      rest[0] === 'namespaces' && rest.length >= 3 ? [rest[1], rest[2]!, rest[3]] : [undefined, rest[0]!, rest[1]];
    if (!served?.has(plural)) throw notServed();
    if (name === undefined) {
      const items = [...this.objects.entries()]
        .filter(([k]) => k.startsWith(`${groupVersion}/${plural}/`))
        .map(([, object]) => structuredClone(object));
      return { items } as T;
    }
    const object = this.objects.get(key(groupVersion, plural, namespace, name));
    if (!object)
      throw httpError(operation, 404, { message: `${plural} "${name}" not found`, reason: 'NotFound', details: { name }, code: 404 });
    return structuredClone(object) as T;
  }
}

const SETTINGS = clusterSettings();
const CEPH = 'rbd.csi.ceph.com';
const ready = { type: 'Ready', status: 'True', reason: 'Ready', message: 'DataSource is ready to be consumed' };

/** A cluster on which everything is in place: KubeVirt v1.8.0 with the Snapshot gate, CDI v1.64.0, Ceph RBD storage. */
function healthyCluster(): FakeApiServer {
  const api = new FakeApiServer();
  api.serve('v1', 'namespaces', 'persistentvolumeclaims');
  api.serve('kubevirt.io/v1', 'virtualmachines', 'virtualmachineinstances', 'kubevirts');
  api.serve('snapshot.kubevirt.io/v1beta1', 'virtualmachinesnapshots', 'virtualmachinesnapshotcontents');
  api.serve('cdi.kubevirt.io/v1beta1', 'datavolumes', 'datasources', 'cdis', 'storageprofiles');
  api.serve('snapshot.storage.k8s.io/v1', 'volumesnapshots', 'volumesnapshotcontents', 'volumesnapshotclasses');
  api.serve('k8s.cni.cncf.io/v1', 'network-attachment-definitions');
  api.serve('storage.k8s.io/v1', 'storageclasses');
  api.serve('rbac.authorization.k8s.io/v1', 'clusterroles');
  api.put('kubevirt.io/v1', 'kubevirts', {
    metadata: { name: 'kubevirt', namespace: 'kubevirt' },
    spec: { configuration: { developerConfiguration: { featureGates: ['Snapshot'] } } },
    status: { phase: 'Deployed', observedKubeVirtVersion: 'v1.8.0' },
  });
  api.put('cdi.kubevirt.io/v1beta1', 'cdis', { metadata: { name: 'cdi' }, status: { phase: 'Deployed', observedVersion: 'v1.64.0' } });
  storage(api, 'ceph-rbd', CEPH, { [DEFAULT_CLASS]: 'true' });
  api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
    metadata: { name: 'rbd-snapshots' },
    driver: CEPH,
    deletionPolicy: 'Delete',
  });
  api.put('v1', 'namespaces', { metadata: { name: 'vm-templates' } });
  api.put('rbac.authorization.k8s.io/v1', 'clusterroles', {
    metadata: { name: 'cks-lab-golden-cloner' },
    rules: [{ apiGroups: ['cdi.kubevirt.io'], resources: ['datavolumes/source'], verbs: ['create'] }],
  });
  const source = { pvc: { namespace: 'vm-templates', name: 'ubuntu-2404-base' } };
  api.put('cdi.kubevirt.io/v1beta1', 'datasources', {
    metadata: { name: 'ubuntu-2404-base', namespace: 'vm-templates' },
    spec: { source },
    status: { source, conditions: [ready] },
  });
  api.put('v1', 'persistentvolumeclaims', {
    metadata: { name: 'ubuntu-2404-base', namespace: 'vm-templates' },
    spec: { accessModes: ['ReadWriteMany'], volumeMode: 'Block', resources: { requests: { storage: '10Gi' } } },
  });
  return api;
}

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
const DEFAULT_VIRT_CLASS = 'storageclass.kubevirt.io/is-default-virt-class';

/** A StorageClass and the StorageProfile CDI makes for it. */
function storage(
  api: FakeApiServer,
  name: string,
  provisioner: string,
  annotations: Record<string, string> = {},
  creationTimestamp = '2025-01-01T00:00:00Z',
): void {
  api.put('storage.k8s.io/v1', 'storageclasses', { metadata: { name, annotations, creationTimestamp }, provisioner });
  api.put('cdi.kubevirt.io/v1beta1', 'storageprofiles', {
    metadata: { name },
    spec: {},
    status: { storageClass: name, provisioner, claimPropertySets: [{ accessModes: ['ReadWriteMany'], volumeMode: 'Block' }] },
  });
}

const run = (api: FakeApiServer, settings = SETTINGS) => kubernetesPreflight(new KubeConfig(), settings, api);
const detailOf = async (api: FakeApiServer, name: string, settings = SETTINGS) => {
  const found = (await run(api, settings)).checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name}`);
  return found;
};

describe('kubernetesPreflight', () => {
  let api: FakeApiServer;
  beforeEach(() => {
    api = healthyCluster();
  });

  it('passes on a cluster with everything in place, each check saying what it found', async () => {
    const result = await run(api);
    expect(result.checks.map((c) => [c.name, c.ok])).toEqual([
      ['KubeVirt', true],
      ['Snapshot feature gate', true],
      ['CDI', true],
      ['StorageClass', true],
      ['StorageProfile', true],
      ['VolumeSnapshot API and controller', true],
      ['VolumeSnapshotClass', true],
      ['Multus', true],
      ['vm-templates namespace', true],
      ['golden cloner ClusterRole', true],
      ['base image DataSource', true],
    ]);
    expect(result).toMatchObject({ snapshotSupported: true, snapshotUnsupportedReason: null });
    const details = Object.fromEntries(result.checks.map((c) => [c.name, c.detail]));
    expect(details).toMatchObject({
      KubeVirt: 'KubeVirt v1.8.0, Deployed',
      CDI: 'CDI v1.64.0, Deployed',
      StorageClass: `ceph-rbd (provisioner ${CEPH}), the cluster default (${DEFAULT_CLASS}); none is annotated ${DEFAULT_VIRT_CLASS}`,
      StorageProfile: 'DataVolumes on ceph-rbd get accessModes ReadWriteMany and volumeMode Block',
      VolumeSnapshotClass: `StorageClass ceph-rbd (${CEPH}) is snapshotted with VolumeSnapshotClass rbd-snapshots`,
      'base image DataSource':
        'DataSource vm-templates/ubuntu-2404-base is Ready; its source PVC vm-templates/ubuntu-2404-base (10Gi) fits the 20Gi VM disks',
    });
    expect(details['VolumeSnapshot API and controller']).toMatch(
      /whether the snapshot-controller itself runs cannot be checked through the API/,
    );
  });

  it('any failed check makes the snapshot strategy unavailable, naming the first, and strategy selection falls back to bootstrap', async () => {
    api.edit('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd', (p) => (p.status.claimPropertySets = []));
    api.remove('rbac.authorization.k8s.io/v1', 'clusterroles', 'cks-lab-golden-cloner');
    const result = await run(api);
    expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['StorageProfile', 'golden cloner ClusterRole']);
    expect(result.snapshotSupported).toBe(false);
    expect(result.snapshotUnsupportedReason).toMatch(/^StorageProfile: StorageProfile ceph-rbd has no claimPropertySets/);
    const decision = selectStrategy({ golden: null, newest: null, goldenDisks: [], preflight: result, k8sVersion: 'v1.34.2', now: 0 });
    expect(decision).toMatchObject({ strategy: 'bootstrap', reason: 'snapshot-unsupported', detail: result.snapshotUnsupportedReason });
  });

  // KubeVirtPhaseDeployed: staging/src/kubevirt.io/api/core/v1/types.go (KubeVirt v1.8.0);
  // PhaseDeployed: vendor/kubevirt.io/controller-lifecycle-operator-sdk/api/types.go (CDI v1.64.0).
  describe('KubeVirt and CDI must be Deployed by their operators', () => {
    it('a KubeVirt CR still deploying, or none at all, fails', async () => {
      api.edit('kubevirt.io/v1', 'kubevirts', 'kubevirt', (kv) => (kv.status.phase = 'Deploying'), 'kubevirt');
      expect(await detailOf(api, 'KubeVirt')).toEqual({
        name: 'KubeVirt',
        ok: false,
        detail:
          'KubeVirt v1.8.0 is in phase Deploying, not Deployed: virt-operator has not finished deploying it (see status.conditions of the KubeVirt CR kubevirt/kubevirt and the virt-operator logs)',
      });
      api.remove('kubevirt.io/v1', 'kubevirts', 'kubevirt', 'kubevirt');
      expect((await detailOf(api, 'KubeVirt')).detail).toMatch(
        /^cannot tell whether KubeVirt is deployed: the KubeVirt CR could not be read \(none exists\)/,
      );
    });

    it('a CDI CR without a phase, or none at all, fails', async () => {
      api.edit('cdi.kubevirt.io/v1beta1', 'cdis', 'cdi', (cdi) => delete cdi.status.phase);
      expect((await detailOf(api, 'CDI')).detail).toMatch(
        /^CDI v1\.64\.0 is without a phase, not Deployed: cdi-operator has not finished deploying it/,
      );
      api.edit('cdi.kubevirt.io/v1beta1', 'cdis', 'cdi', (cdi) => (cdi.status = { phase: 'Deployed', observedVersion: 'v1.55.2' }));
      expect((await detailOf(api, 'CDI')).detail).toMatch(/^CDI v1\.55\.2 cannot fill a DataVolume from a VolumeSnapshot/);
      api.remove('cdi.kubevirt.io/v1beta1', 'cdis', 'cdi');
      expect(await detailOf(api, 'CDI')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^cannot tell whether CDI is deployed: the CDI CR could not be read \(none exists\)/),
      });
    });
  });

  // getFallbackStorageClass and GetPlatformDefaultStorageClass: pkg/controller/common/util.go (CDI v1.64.0).
  describe('the StorageClass is the one CDI gives the VM disks', () => {
    it('the default for virtualization comes before the cluster default, and its snapshot class is the one checked', async () => {
      storage(api, 'lvm-thin', 'topolvm.io', { [DEFAULT_VIRT_CLASS]: 'true' });
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
        metadata: { name: 'topolvm-snapshots' },
        driver: 'topolvm.io',
        deletionPolicy: 'Delete',
      });
      const result = await run(api);
      const details = Object.fromEntries(result.checks.map((c) => [c.name, c.detail]));
      expect(details.StorageClass).toBe(
        `lvm-thin (provisioner topolvm.io), the default for virtualization (${DEFAULT_VIRT_CLASS}), which CDI prefers to the cluster default`,
      );
      expect(details.VolumeSnapshotClass).toBe(
        'StorageClass lvm-thin (topolvm.io) is snapshotted with VolumeSnapshotClass topolvm-snapshots',
      );

      // A configured class wins over both annotations.
      expect((await detailOf(api, 'StorageClass', { ...SETTINGS, storageClassName: 'ceph-rbd' })).detail).toBe(
        `ceph-rbd (provisioner ${CEPH}), configured for the VM disks`,
      );
    });

    it('among several defaults, the newest wins, then the first by name; an annotation other than "true" does not count', async () => {
      storage(api, 'b-virt', 'b.csi.example.com', { [DEFAULT_VIRT_CLASS]: 'true' }, '2025-03-01T00:00:00Z');
      storage(api, 'a-virt', 'a.csi.example.com', { [DEFAULT_VIRT_CLASS]: 'true' }, '2025-03-01T00:00:00Z');
      storage(api, 'old-virt', 'old.csi.example.com', { [DEFAULT_VIRT_CLASS]: 'true' }, '2024-01-01T00:00:00Z');
      storage(api, 'z-not-virt', 'z.csi.example.com', { [DEFAULT_VIRT_CLASS]: 'false' }, '2026-01-01T00:00:00Z');
      expect((await detailOf(api, 'StorageClass')).detail).toMatch(
        /^a-virt \(provisioner a\.csi\.example\.com\), the default for virtualization/,
      );
    });

    it('with no configured class and no default, the storage checks fail and say how to fix it', async () => {
      api.edit('storage.k8s.io/v1', 'storageclasses', 'ceph-rbd', (sc) => (sc.metadata.annotations = {}));
      const result = await run(api);
      const failing = Object.fromEntries(result.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
      expect(failing).toEqual({
        StorageClass: `no StorageClass is configured for the VM disks and none is annotated ${DEFAULT_VIRT_CLASS} or ${DEFAULT_CLASS} (no default StorageClass): mark one as the default or configure one`,
        StorageProfile: 'no StorageClass for the VM disks (see StorageClass)',
        VolumeSnapshotClass: 'no StorageClass for the VM disks (see StorageClass)',
      });
      expect((await detailOf(api, 'StorageClass', { ...SETTINGS, storageClassName: 'nfs' })).detail).toBe(
        'StorageClass nfs (configured for the VM disks) does not exist',
      );
    });
  });

  // getDefaultVolumeAndAccessMode: pkg/controller/datavolume/util.go (CDI v1.64.0).
  describe('the StorageProfile gives DataVolumes with "storage:" their access and volume modes', () => {
    it('reports the claimPropertySet CDI uses, the first', async () => {
      api.edit('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd', (p) => {
        p.status.claimPropertySets = [{ accessModes: ['ReadWriteOnce'] }, { accessModes: ['ReadWriteMany'], volumeMode: 'Block' }];
      });
      expect(await detailOf(api, 'StorageProfile')).toEqual({
        name: 'StorageProfile',
        ok: true,
        detail:
          'DataVolumes on ceph-rbd get accessModes ReadWriteOnce and volumeMode Filesystem (the first of 2 claimPropertySets, the one CDI uses)',
      });
    });

    it('a profile without claimPropertySets fails every "storage:" DataVolume in CDI, and so the check', async () => {
      api.edit('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd', (p) => delete p.status.claimPropertySets);
      expect((await detailOf(api, 'StorageProfile')).detail).toBe(
        `StorageProfile ceph-rbd has no claimPropertySets with access modes in its status (CDI does not know provisioner ${CEPH}): every DataVolume with "storage:" — the VM disks and the golden copies — fails with "no accessMode specified in StorageProfile ceph-rbd"; set spec.claimPropertySets of the StorageProfile, e.g. [{accessModes: [ReadWriteOnce], volumeMode: Block}]`,
      );
      api.remove('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd');
      expect((await detailOf(api, 'StorageProfile')).detail).toMatch(/^CDI has no StorageProfile for StorageClass ceph-rbd/);
    });

    it('a profile cks-lab may not read fails as "could not be checked", naming the permission', async () => {
      api.forbidden.add('/apis/cdi.kubevirt.io/v1beta1/storageprofiles');
      const result = await run(api);
      expect(result.checks.find((c) => c.name === 'StorageProfile')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^could not be checked: .*forbidden/),
      });
      expect(result.checks.find((c) => c.name === 'VolumeSnapshotClass')).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/^could not be checked/),
      });
    });
  });

  // getVolumeSnapshotClassName: pkg/storage/snapshot/snapshot.go (KubeVirt v1.8.0).
  describe('the VolumeSnapshotClass is the one KubeVirt snapshots the VM disks with', () => {
    beforeEach(() => {
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
        metadata: { name: 'rbd-default', annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
        driver: CEPH,
        deletionPolicy: 'Delete',
      });
    });

    it('the StorageProfile’s status.snapshotClass comes first, even over a default class of the driver', async () => {
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
        metadata: { name: 'rbd-for-vms' },
        driver: CEPH,
        deletionPolicy: 'Retain',
      });
      api.edit('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd', (p) => (p.status.snapshotClass = 'rbd-for-vms'));
      expect((await detailOf(api, 'VolumeSnapshotClass')).detail).toBe(
        `StorageClass ceph-rbd (${CEPH}) is snapshotted with VolumeSnapshotClass rbd-for-vms, named by its StorageProfile`,
      );
    });

    it('a snapshotClass the profile names must exist and belong to the provisioner', async () => {
      api.edit('cdi.kubevirt.io/v1beta1', 'storageprofiles', 'ceph-rbd', (p) => (p.status.snapshotClass = 'gone'));
      expect((await detailOf(api, 'VolumeSnapshotClass')).detail).toMatch(
        /^StorageProfile ceph-rbd names VolumeSnapshotClass gone \(status.snapshotClass\), which does not exist/,
      );
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
        metadata: { name: 'gone' },
        driver: 'other.csi.example.com',
        deletionPolicy: 'Delete',
      });
      expect((await detailOf(api, 'VolumeSnapshotClass')).detail).toMatch(
        /whose driver other\.csi\.example\.com is not rbd\.csi\.ceph\.com/,
      );
    });

    it('of several classes of the driver, the annotated default; with none annotated KubeVirt refuses to choose', async () => {
      expect((await detailOf(api, 'VolumeSnapshotClass')).detail).toBe(
        `StorageClass ceph-rbd (${CEPH}) is snapshotted with VolumeSnapshotClass rbd-default, the default of rbd-snapshots, rbd-default`,
      );
      api.edit('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', 'rbd-default', (c) => (c.metadata.annotations = {}));
      expect(await detailOf(api, 'VolumeSnapshotClass')).toMatchObject({
        ok: false,
        detail: `2 VolumeSnapshotClasses have driver ${CEPH} (rbd-snapshots, rbd-default) and none is annotated snapshot.storage.kubernetes.io/is-default-class: KubeVirt refuses to choose and fails the VM snapshots; annotate one, or name one in spec.snapshotClass of the StorageProfile ceph-rbd`,
      });
    });

    it('no class of the driver: the VM snapshots would leave out their disks', async () => {
      for (const name of ['rbd-snapshots', 'rbd-default']) api.remove('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', name);
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', {
        metadata: { name: 'other' },
        driver: 'other.csi.example.com',
        deletionPolicy: 'Delete',
      });
      expect((await detailOf(api, 'VolumeSnapshotClass')).detail).toMatch(
        /^no VolumeSnapshotClass has driver rbd\.csi\.ceph\.com, the provisioner of StorageClass ceph-rbd/,
      );
    });
  });

  // isCsiCrdsDeployed: pkg/controller/common/util.go (CDI v1.64.0) requires all three CRDs served at v1.
  describe('the VolumeSnapshot API and its controller', () => {
    it('all three CRDs must be served', async () => {
      api.unserve('snapshot.storage.k8s.io/v1', 'volumesnapshotcontents');
      const result = await run(api);
      const failing = Object.fromEntries(result.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
      expect(failing).toEqual({
        'VolumeSnapshot API and controller':
          'the VolumeSnapshot API (snapshot.storage.k8s.io/v1 VolumeSnapshot, VolumeSnapshotContent and VolumeSnapshotClass) is not served: install the external-snapshotter CRDs and the snapshot-controller',
        VolumeSnapshotClass: 'the VolumeSnapshot API is not served (see VolumeSnapshot API and controller)',
      });
    });

    it('served CRDs without any VolumeSnapshotClass mean nothing can be snapshotted', async () => {
      api.remove('snapshot.storage.k8s.io/v1', 'volumesnapshotclasses', 'rbd-snapshots');
      expect((await detailOf(api, 'VolumeSnapshot API and controller')).detail).toMatch(
        /^the VolumeSnapshot CRDs are served but no VolumeSnapshotClass exists/,
      );
    });
  });

  // DataSource Ready: pkg/controller/datasource-controller.go; clone size: ValidateRequestedCloneSize,
  // pkg/controller/common/util.go, called from pkg/controller/datavolume/pvc-clone-controller.go and
  // snapshot-clone-controller.go (CDI v1.64.0).
  describe('the base image DataSource is Ready and its source fits a VM disk', () => {
    it('a DataSource CDI has not marked Ready fails, with CDI’s reason', async () => {
      api.edit(
        'cdi.kubevirt.io/v1beta1',
        'datasources',
        'ubuntu-2404-base',
        (ds) =>
          (ds.status = {
            conditions: [
              { type: 'Ready', status: 'False', reason: 'ImportInProgress', message: 'Import DataVolume phase ImportInProgress' },
            ],
          }),
        'vm-templates',
      );
      expect((await detailOf(api, 'base image DataSource')).detail).toBe(
        'DataSource vm-templates/ubuntu-2404-base is not ready (Ready is False, ImportInProgress: Import DataVolume phase ImportInProgress): CDI marks it Ready once its source PVC or VolumeSnapshot exists and is complete; finish or repair the base image import',
      );
      api.edit('cdi.kubevirt.io/v1beta1', 'datasources', 'ubuntu-2404-base', (ds) => delete ds.status, 'vm-templates');
      expect((await detailOf(api, 'base image DataSource')).detail).toMatch(/is not ready \(CDI has not reported a Ready condition\)/);
    });

    it('a source PVC larger than the VM disks fails: CDI refuses to clone into a smaller disk', async () => {
      api.edit('v1', 'persistentvolumeclaims', 'ubuntu-2404-base', (pvc) => (pvc.spec.resources.requests.storage = '30Gi'), 'vm-templates');
      expect(await detailOf(api, 'base image DataSource')).toMatchObject({
        ok: false,
        detail:
          'DataSource vm-templates/ubuntu-2404-base: its source PVC vm-templates/ubuntu-2404-base is 30Gi, larger than the VM disks (diskSize 20Gi), and CDI refuses to clone into a smaller disk ("target resources requests storage size is smaller than the source"): set diskSize to at least 30Gi',
      });
      expect((await detailOf(api, 'base image DataSource', { ...SETTINGS, diskSize: '32212254720' })).ok).toBe(true);
    });

    it('follows what the DataSource resolved to (status.source): a VolumeSnapshot, sized by its restoreSize', async () => {
      api.edit(
        'cdi.kubevirt.io/v1beta1',
        'datasources',
        'ubuntu-2404-base',
        (ds) => {
          ds.spec.source = { dataSource: { namespace: 'vm-templates', name: 'ubuntu-2404-latest' } };
          ds.status = { source: { snapshot: { namespace: 'os-images', name: 'ubuntu-2404-20250601' } }, conditions: [ready] };
        },
        'vm-templates',
      );
      api.put('snapshot.storage.k8s.io/v1', 'volumesnapshots', {
        metadata: { name: 'ubuntu-2404-20250601', namespace: 'os-images' },
        spec: {},
        status: { readyToUse: true, restoreSize: '25Gi' },
      });
      expect((await detailOf(api, 'base image DataSource')).detail).toMatch(
        /^DataSource vm-templates\/ubuntu-2404-base: its source VolumeSnapshot os-images\/ubuntu-2404-20250601 is 25Gi, larger than the VM disks/,
      );
      api.edit(
        'snapshot.storage.k8s.io/v1',
        'volumesnapshots',
        'ubuntu-2404-20250601',
        (vs) => (vs.status.restoreSize = '8Gi'),
        'os-images',
      );
      expect((await detailOf(api, 'base image DataSource')).detail).toBe(
        'DataSource vm-templates/ubuntu-2404-base is Ready; its source VolumeSnapshot os-images/ubuntu-2404-20250601 (8Gi) fits the 20Gi VM disks',
      );
    });

    it('a missing DataSource or source PVC fails', async () => {
      api.remove('v1', 'persistentvolumeclaims', 'ubuntu-2404-base', 'vm-templates');
      expect((await detailOf(api, 'base image DataSource')).detail).toMatch(
        /is Ready but its source PVC vm-templates\/ubuntu-2404-base does not exist/,
      );
      api.remove('cdi.kubevirt.io/v1beta1', 'datasources', 'ubuntu-2404-base', 'vm-templates');
      expect((await detailOf(api, 'base image DataSource')).detail).toMatch(
        /^DataSource vm-templates\/ubuntu-2404-base, the base OS image .* does not exist/,
      );
    });
  });

  describe('the cks-lab-golden-cloner ClusterRole that session RoleBindings grant', () => {
    it('must exist and grant create on datavolumes/source', async () => {
      api.edit(
        'rbac.authorization.k8s.io/v1',
        'clusterroles',
        'cks-lab-golden-cloner',
        (role) => (role.rules = [{ apiGroups: ['cdi.kubevirt.io'], resources: ['datavolumes'], verbs: ['create'] }]),
      );
      expect((await detailOf(api, 'golden cloner ClusterRole')).detail).toMatch(
        /^ClusterRole cks-lab-golden-cloner does not grant create on cdi\.kubevirt\.io datavolumes\/source/,
      );
      api.remove('rbac.authorization.k8s.io/v1', 'clusterroles', 'cks-lab-golden-cloner');
      expect((await detailOf(api, 'golden cloner ClusterRole')).detail).toMatch(
        /^ClusterRole cks-lab-golden-cloner does not exist .*kubectl apply -k deploy\//,
      );
    });
  });

  it('reads each shared object once', async () => {
    await run(api);
    const counts = new Map<string, number>();
    for (const path of api.requests) counts.set(path, (counts.get(path) ?? 0) + 1);
    expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
  });
});
