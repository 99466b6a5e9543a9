/**
 * The real-cluster preflight against a real API server, piece by piece: each missing prerequisite
 * makes the snapshot strategy unavailable with that piece named and the fix said in plain words;
 * nothing throws except an unreachable or untrustworthy API server. Run as cks-lab's own
 * ServiceAccount, so deploy/'s RBAC is shown to cover every read the preflight makes.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger, Preflight } from '@cks-lab/core';
import { KubeConfig, kubernetesPreflight, startKubernetesCluster } from '@cks-lab/kubevirt/kubernetes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import {
  CSI_DRIVER,
  installBaseImage,
  installCdiCr,
  installKubeVirtCr,
  installSnapshotStorage,
  installStorageProfile,
  installVolumeSnapshotClass,
  STORAGE_CLASS,
} from './support/cluster-fixtures';
import { installDeployRbac } from './support/deploy-manifests';
import { SETTINGS } from './support/platform';
import { describeWithApiServer, kubeConfigOf, startApiServer } from './support/test-cluster';

const failing = (p: Preflight) => Object.fromEntries(p.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));

describeWithApiServer('kubernetesPreflight', () => {
  let cluster: TestCluster;
  let kc: KubeConfig;
  const preflight = () => kubernetesPreflight(kc, SETTINGS);
  const patchKubeVirt = (spec: object) =>
    cluster.request(
      'PATCH',
      '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt',
      { spec },
      { contentType: 'application/merge-patch+json' },
    );

  beforeAll(async () => {
    cluster = await startApiServer();
    kc = kubeConfigOf(cluster, await installDeployRbac(cluster));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('on a cluster with only the KubeVirt, CDI, snapshot and Multus APIs and deploy/: names what is missing, in order', async () => {
    const result = await preflight();
    expect(result.checks.map((c) => c.name)).toEqual([
      'KubeVirt',
      'Snapshot feature gate',
      'CDI',
      'StorageClass',
      'StorageProfile',
      'VolumeSnapshot API and controller',
      'VolumeSnapshotClass',
      'Multus',
      'vm-templates namespace',
      'golden cloner ClusterRole',
      'base image DataSource',
    ]);
    expect(Object.keys(failing(result))).toEqual([
      'KubeVirt',
      'Snapshot feature gate',
      'CDI',
      'StorageClass',
      'StorageProfile',
      'VolumeSnapshot API and controller',
      'VolumeSnapshotClass',
      'base image DataSource',
    ]);
    expect(result.snapshotSupported).toBe(false);
    expect(result.snapshotUnsupportedReason).toMatch(
      /^KubeVirt: cannot tell whether KubeVirt is deployed: the KubeVirt CR could not be read \(its API is not served\)/,
    );
    expect(failing(result).CDI).toMatch(/the CDI CR could not be read \(its API is not served\)/);
    expect(failing(result).StorageClass).toMatch(/no default StorageClass/);
    expect(failing(result)['VolumeSnapshot API and controller']).toMatch(/no VolumeSnapshotClass exists/);
    expect(failing(result)['base image DataSource']).toMatch(/DataSource vm-templates\/ubuntu-2404-base.*does not exist/);
    // deploy/ installs the golden cloner ClusterRole, and its RBAC lets cks-lab read it.
    expect(result.checks.find((c) => c.name === 'golden cloner ClusterRole')).toEqual({
      name: 'golden cloner ClusterRole',
      ok: true,
      detail: 'exists and grants create on cdi.kubevirt.io datavolumes/source',
    });
  });

  it('reads the Snapshot feature gate from the KubeVirt CR: off before 1.9 unless enabled, on from 1.9 unless disabled', async () => {
    await installKubeVirtCr(cluster, 'v1.8.2');
    let result = await preflight();
    expect(result.checks[0]).toEqual({ name: 'KubeVirt', ok: true, detail: 'KubeVirt v1.8.2, Deployed' });
    expect(failing(result)['Snapshot feature gate']).toMatch(
      /is off .*add "Snapshot" to spec\.configuration\.developerConfiguration\.featureGates of the KubeVirt CR kubevirt\/kubevirt/,
    );

    await patchKubeVirt({ configuration: { developerConfiguration: { featureGates: ['Snapshot'] } } });
    result = await preflight();
    expect(failing(result)['Snapshot feature gate']).toBeUndefined();

    await cluster.request(
      'PATCH',
      '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt/status',
      { status: { observedKubeVirtVersion: 'v1.9.1' } },
      { contentType: 'application/merge-patch+json' },
    );
    await patchKubeVirt({ configuration: { developerConfiguration: { featureGates: [], disabledFeatureGates: ['Snapshot'] } } });
    expect(failing(await preflight())['Snapshot feature gate']).toMatch(/disabled: remove "Snapshot" from .*disabledFeatureGates/);
    await patchKubeVirt({ configuration: { developerConfiguration: { disabledFeatureGates: [] } } });
    expect((await preflight()).checks[1]).toEqual({ name: 'Snapshot feature gate', ok: true, detail: 'on by default in KubeVirt v1.9.1' });
  });

  it('reads the CDI CR: Deployed, and its version', async () => {
    await installCdiCr(cluster, 'v1.64.0');
    expect((await preflight()).checks[2]).toEqual({ name: 'CDI', ok: true, detail: 'CDI v1.64.0, Deployed' });
  });

  it('takes the StorageClass CDI takes, its StorageProfile, and a VolumeSnapshotClass whose driver provisions it', async () => {
    await installVolumeSnapshotClass(cluster, 'other.csi.example.com');
    await installSnapshotStorage(cluster);
    const checks = Object.fromEntries((await preflight()).checks.map((c) => [c.name, c]));
    expect(checks.StorageClass).toEqual({
      name: 'StorageClass',
      ok: true,
      detail: `${STORAGE_CLASS} (provisioner ${CSI_DRIVER}), the cluster default (storageclass.kubernetes.io/is-default-class); none is annotated storageclass.kubevirt.io/is-default-virt-class`,
    });
    expect(checks.StorageProfile).toMatchObject({
      ok: true,
      detail: `DataVolumes on ${STORAGE_CLASS} get accessModes ReadWriteMany and volumeMode Block (the first of 3 claimPropertySets, the one CDI uses)`,
    });
    expect(checks['VolumeSnapshot API and controller']!.ok).toBe(true);
    expect(checks.VolumeSnapshotClass).toEqual({
      name: 'VolumeSnapshotClass',
      ok: true,
      detail: `StorageClass ${STORAGE_CLASS} (${CSI_DRIVER}) is snapshotted with VolumeSnapshotClass rbd-snapshots`,
    });

    // A default for virtualization comes first, as in CDI; one whose StorageProfile CDI left without claimPropertySets fails.
    await cluster.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'lab-virt', annotations: { 'storageclass.kubevirt.io/is-default-virt-class': 'true' } },
      provisioner: 'unknown.csi.example.com',
    });
    await installStorageProfile(cluster, 'lab-virt', 'unknown.csi.example.com', []);
    const virt = failing(await preflight());
    expect(virt.StorageProfile).toMatch(
      /^StorageProfile lab-virt has no claimPropertySets .*fails with "no accessMode specified in StorageProfile lab-virt"/,
    );
    expect(virt.VolumeSnapshotClass).toMatch(
      /^no VolumeSnapshotClass has driver unknown\.csi\.example\.com, the provisioner of StorageClass lab-virt/,
    );
    await cluster.request('DELETE', '/apis/storage.k8s.io/v1/storageclasses/lab-virt');
    await cluster.request('DELETE', '/apis/cdi.kubevirt.io/v1beta1/storageprofiles/lab-virt');

    const unmatched = await kubernetesPreflight(kc, { ...SETTINGS, storageClassName: 'nfs' });
    expect(failing(unmatched).StorageClass).toBe('StorageClass nfs (configured for the VM disks) does not exist');
  });

  it('passes once the base image is there; startKubernetesCluster logs every check and caches the result', async () => {
    await installBaseImage(cluster, SETTINGS);
    const lines: string[] = [];
    const logger: Logger = {
      info: (_f, m) => lines.push(`info ${m}`),
      warn: (_f, m) => lines.push(`warn ${m}`),
      error: (_f, m) => lines.push(`error ${m}`),
    };
    const kube = await startKubernetesCluster({ settings: SETTINGS, logger, kubeConfig: kc });
    try {
      const result = await kube.cluster.preflight();
      expect(result).toMatchObject({ snapshotSupported: true, snapshotUnsupportedReason: null });
      expect(result.checks.every((c) => c.ok)).toBe(true);
      expect(lines.filter((l) => l.startsWith('info preflight: '))).toHaveLength(12);
      expect(lines[0]).toMatch(/REAL Kubernetes cluster/);
      const requests = kube.api.requestCount;
      await kube.cluster.preflight();
      expect(kube.api.requestCount).toBe(requests);
    } finally {
      kube.stop();
    }
  });

  it('throws only for an API server it cannot reach or cannot verify', async () => {
    const dead = new KubeConfig();
    dead.loadFromClusterAndUser(
      { name: 'gone', server: 'https://127.0.0.1:1', caData: Buffer.from(cluster.caPem).toString('base64'), skipTLSVerify: false },
      { name: 'nobody', token: 'x' },
    );
    await expect(kubernetesPreflight(dead, SETTINGS)).rejects.toThrow(/API server at https:\/\/127\.0\.0\.1:1 is unreachable/);

    const insecurePath = path.join(cluster.dataDir, 'insecure.kubeconfig');
    writeFileSync(
      insecurePath,
      `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${cluster.server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: x } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`,
    );
    const insecure = new KubeConfig();
    insecure.loadFromFile(insecurePath);
    await expect(
      startKubernetesCluster({ settings: SETTINGS, logger: { info() {}, warn() {}, error() {} }, kubeConfig: insecure }),
    ).rejects.toThrow(/disables TLS verification/);
  });
});
