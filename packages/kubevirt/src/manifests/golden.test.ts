import { names } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import { type AnyObject, example, examplesAvailable } from './examples-for-tests';
import { goldenCopyDataVolume, goldenDataSource, kubevirtVolumeSnapshotName, vmSnapshot } from './golden';
import { clusterSettings, DEFAULT_CLUSTER_SETTINGS } from './settings';

const SESSION = '76c3ac1b';
const VOLUME_SNAPSHOT = 'vmsnapshot-1b2f0c4e-7d1a-4a8e-9f3b-2c6d5e7f8a90-volume-root';
const disk = (sizeBytes: number | null = null, volumeSnapshot: string | null = VOLUME_SNAPSHOT) => ({
  role: 'control-plane' as const,
  volumeSnapshot,
  pvc: names.goldenCopy('control-plane', 3),
  sizeBytes,
});
const withLabels = (object: AnyObject, labels: Record<string, string>) => ({
  ...object,
  metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...labels } },
});

describe('golden image builders', () => {
  it.runIf(examplesAvailable())('snapshot: the example plus role and session labels', () => {
    expect(vmSnapshot(SESSION, 'control-plane', 3)).toEqual(
      withLabels(example('VirtualMachineSnapshot'), { 'cks-lab.io/role': 'control-plane', 'cks-lab.io/session': SESSION }),
    );
  });

  it.runIf(examplesAvailable())('copy: the example plus a role label and immediate binding, sized by CDI from the snapshot', () => {
    const expected: AnyObject = withLabels(example('DataVolume'), { 'cks-lab.io/role': 'control-plane' });
    expected.metadata = { ...expected.metadata, annotations: { 'cdi.kubevirt.io/storage.bind.immediate.requested': 'true' } };
    expected.spec = { ...expected.spec, storage: {} };
    expect(goldenCopyDataVolume(3, disk(), 'user-session-76c3ac1b', DEFAULT_CLUSTER_SETTINGS)).toEqual(expected);
  });

  it.runIf(examplesAvailable())('DataSource: the example plus a role label', () => {
    expect(goldenDataSource('control-plane', 3)).toEqual(withLabels(example('DataSource'), { 'cks-lab.io/role': 'control-plane' }));
  });

  it('names the snapshots and copies after the logical golden names users know', () => {
    expect(vmSnapshot(SESSION, 'worker', 12).metadata.name).toBe('cks-worker-base-snapshot-v12');
    expect((vmSnapshot(SESSION, 'worker', 12) as AnyObject).spec.source.name).toBe('cks-worker-node-user-session-76c3ac1b');
    expect(goldenDataSource('worker', 12).metadata.name).toBe('cks-worker-golden');
    expect((goldenDataSource('worker', 12) as AnyObject).spec.source.pvc).toEqual({
      namespace: 'vm-templates',
      name: 'cks-worker-golden-v12',
    });
  });

  // CDI v1.64.0 pkg/controller/datavolume/snapshot-clone-controller.go detectCloneSize: no size → the
  // snapshot's restoreSize, exactly; a size is inflated by the filesystem overhead once more.
  it("asks for no size, so CDI gives the copy the snapshot's restoreSize, and uses the storage class", () => {
    const settings = clusterSettings({ storageClassName: 'ceph-rbd' });
    expect((goldenCopyDataVolume(3, disk(30 * 2 ** 30), 'ns', settings) as AnyObject).spec.storage).toEqual({
      storageClassName: 'ceph-rbd',
    });
    expect((goldenCopyDataVolume(3, disk(), 'ns', DEFAULT_CLUSTER_SETTINGS) as AnyObject).spec.storage).toEqual({});
  });

  it('asks for the size it is given when the snapshot has no restoreSize to go by', () => {
    expect((goldenCopyDataVolume(3, disk(), 'ns', DEFAULT_CLUSTER_SETTINGS, '21Gi') as AnyObject).spec.storage).toEqual({
      resources: { requests: { storage: '21Gi' } },
    });
  });

  it('refuses to copy a disk whose VolumeSnapshot is not known yet', () => {
    expect(() => goldenCopyDataVolume(3, disk(null, null), 'ns', DEFAULT_CLUSTER_SETTINGS)).toThrow(/no VolumeSnapshot/);
  });

  it('names VolumeSnapshots as KubeVirt does', () => {
    expect(kubevirtVolumeSnapshotName('1b2f0c4e-7d1a-4a8e-9f3b-2c6d5e7f8a90')).toBe(VOLUME_SNAPSHOT);
  });
});
