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
import { CSI_DRIVER, installBaseImage, installKubeVirtCr, installSnapshotStorage, installVolumeSnapshotClass, STORAGE_CLASS } from './support/cluster-fixtures';
import { installDeployRbac } from './support/deploy-manifests';
import { SETTINGS } from './support/platform';
import { describeWithApiServer, kubeConfigOf, startApiServer } from './support/test-cluster';

const failing = (p: Preflight) => Object.fromEntries(p.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));

describeWithApiServer('kubernetesPreflight', () => {
  let cluster: TestCluster;
  let kc: KubeConfig;
  const preflight = () => kubernetesPreflight(kc, SETTINGS);
  const patchKubeVirt = (spec: object) =>
    cluster.request('PATCH', '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt', { spec }, { contentType: 'application/merge-patch+json' });

  beforeAll(async () => {
    cluster = await startApiServer();
    kc = kubeConfigOf(cluster, await installDeployRbac(cluster));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('on a cluster with only the KubeVirt, CDI, snapshot and Multus APIs: names what is missing, in order', async () => {
    const result = await preflight();
    expect(result.checks.map((c) => c.name)).toEqual([
      'KubeVirt',
      'Snapshot feature gate',
      'CDI',
      'VolumeSnapshot API and class',
      'Multus',
      'vm-templates namespace',
      'base image DataSource',
    ]);
    expect(Object.keys(failing(result))).toEqual(['Snapshot feature gate', 'VolumeSnapshot API and class', 'base image DataSource']);
    expect(result.checks[0]!.detail).toMatch(/installed; its version is unknown/);
    expect(result.snapshotSupported).toBe(false);
    expect(result.snapshotUnsupportedReason).toMatch(/^Snapshot feature gate: cannot tell whether the Snapshot feature gate is on/);
    expect(failing(result)['VolumeSnapshot API and class']).toMatch(/no default StorageClass/);
    expect(failing(result)['base image DataSource']).toMatch(/DataSource vm-templates\/ubuntu-2404-base.*does not exist/);
  });

  it('reads the Snapshot feature gate from the KubeVirt CR: off before 1.9 unless enabled, on from 1.9 unless disabled', async () => {
    await installKubeVirtCr(cluster, 'v1.8.2');
    let result = await preflight();
    expect(result.checks[0]!.detail).toBe('KubeVirt v1.8.2');
    expect(failing(result)['Snapshot feature gate']).toMatch(/is off .*add "Snapshot" to spec\.configuration\.developerConfiguration\.featureGates of the KubeVirt CR kubevirt\/kubevirt/);

    await patchKubeVirt({ configuration: { developerConfiguration: { featureGates: ['Snapshot'] } } });
    result = await preflight();
    expect(failing(result)['Snapshot feature gate']).toBeUndefined();

    await cluster.request('PATCH', '/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt/status', { status: { observedKubeVirtVersion: 'v1.9.1' } }, { contentType: 'application/merge-patch+json' });
    await patchKubeVirt({ configuration: { developerConfiguration: { featureGates: [], disabledFeatureGates: ['Snapshot'] } } });
    expect(failing(await preflight())['Snapshot feature gate']).toMatch(/disabled: remove "Snapshot" from .*disabledFeatureGates/);
    await patchKubeVirt({ configuration: { developerConfiguration: { disabledFeatureGates: [] } } });
    expect((await preflight()).checks[1]).toEqual({ name: 'Snapshot feature gate', ok: true, detail: 'on by default in KubeVirt v1.9.1' });
  });

  it('wants a VolumeSnapshotClass whose driver provisions the disks’ StorageClass', async () => {
    await installVolumeSnapshotClass(cluster, 'other.csi.example.com');
    await installSnapshotStorage(cluster);
    const storage = (await preflight()).checks.find((c) => c.name === 'VolumeSnapshot API and class')!;
    expect(storage.ok).toBe(true);
    expect(storage.detail).toBe(`StorageClass ${STORAGE_CLASS} (${CSI_DRIVER}) is snapshotted with VolumeSnapshotClass rbd-snapshots`);

    const unmatched = await kubernetesPreflight(kc, { ...SETTINGS, storageClassName: 'nfs' });
    expect(unmatched.snapshotUnsupportedReason).toMatch(/^VolumeSnapshot API and class: StorageClass nfs .* does not exist/);
  });

  it('passes once the base image is there; startKubernetesCluster logs every check and caches the result', async () => {
    await installBaseImage(cluster, SETTINGS);
    const lines: string[] = [];
    const logger: Logger = { info: (_f, m) => lines.push(`info ${m}`), warn: (_f, m) => lines.push(`warn ${m}`), error: (_f, m) => lines.push(`error ${m}`) };
    const kube = await startKubernetesCluster({ settings: SETTINGS, logger, kubeConfig: kc });
    try {
      const result = await kube.cluster.preflight();
      expect(result).toMatchObject({ snapshotSupported: true, snapshotUnsupportedReason: null });
      expect(result.checks.every((c) => c.ok)).toBe(true);
      expect(lines.filter((l) => l.startsWith('info preflight: '))).toHaveLength(8);
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
    dead.loadFromClusterAndUser({ name: 'gone', server: 'https://127.0.0.1:1', caData: Buffer.from(cluster.caPem).toString('base64'), skipTLSVerify: false }, { name: 'nobody', token: 'x' });
    await expect(kubernetesPreflight(dead, SETTINGS)).rejects.toThrow(/API server at https:\/\/127\.0\.0\.1:1 is unreachable/);

    const insecurePath = path.join(cluster.dataDir, 'insecure.kubeconfig');
    writeFileSync(insecurePath, `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${cluster.server}", insecure-skip-tls-verify: true } }]
users: [{ name: u, user: { token: x } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
current-context: x
`);
    const insecure = new KubeConfig();
    insecure.loadFromFile(insecurePath);
    await expect(startKubernetesCluster({ settings: SETTINGS, logger: { info() {}, warn() {}, error() {} }, kubeConfig: insecure })).rejects.toThrow(
      /disables TLS verification/,
    );
  });
});
