import { ClusterFailure, DeadlineError, names, type Preflight } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KubevirtCluster } from './kubevirt-cluster';
import { type ClusterSettings, clusterSettings, DEFAULT_CLUSTER_SETTINGS } from './manifests/settings';
import type { KubeObject } from './object-api';
import { apiVersionOf, R, type ResourceType } from './resources';
import { MemoryObjectApi } from './simulator/memory-object-api';

/**
 * The adapter against an in-memory API with no controllers: each test writes the status the real
 * KubeVirt or CDI controller writes (the source file is named with each) and checks what the adapter
 * makes of it.
 */
const SESSION = '76c3ac1b';
const NS = names.namespace(SESSION);
const preflight = async (): Promise<Preflight> => ({ checks: [], snapshotSupported: true, snapshotUnsupportedReason: null });
const timers: Array<ReturnType<typeof setTimeout>> = [];
afterEach(() => timers.splice(0).forEach(clearTimeout));

async function setup(settings: ClusterSettings = DEFAULT_CLUSTER_SETTINGS, extraNamespaces: string[] = []) {
  const api = new MemoryObjectApi({ namespaceTerminationMs: 1 });
  for (const name of ['vm-templates', NS, ...extraNamespaces])
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const cluster = new KubevirtCluster(api, settings, 'simulated', preflight);
  const put = async (type: ResourceType, name: string, rest: Record<string, unknown> = {}, status?: object, namespace = NS) => {
    await api.create({ apiVersion: apiVersionOf(type), kind: type.kind, metadata: { name, namespace }, ...rest } as KubeObject);
    if (status) await api.patchStatus(type, namespace, name, status);
  };
  return { api, cluster, put };
}

/** Settles `promise` into a value to inspect: whether it finished within `ms`, and how. */
async function outcome(
  promise: Promise<unknown>,
  ms: number,
): Promise<{ state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: Error }> {
  const pending = new Promise<{ state: 'pending' }>((resolve) => timers.push(setTimeout(() => resolve({ state: 'pending' }), ms)));
  return Promise.race([
    promise.then(
      () => ({ state: 'resolved' as const }),
      (error: Error) => ({ state: 'rejected' as const, error }),
    ),
    pending,
  ]);
}

describe('waitVmSnapshot', () => {
  const snapshotName = names.goldenSnapshot('control-plane', 3);
  const vmSpec = {
    template: {
      spec: {
        volumes: [
          { name: 'root', dataVolume: { name: names.rootDisk('control-plane', SESSION) } },
          { name: 'cloudinit', cloudInitNoCloud: { secretRef: { name: 'x' } } },
        ],
      },
    },
  };

  /** A Succeeded snapshot as kubevirt v1.8.0 pkg/storage/snapshot/snapshot.go writes it, with the given volume lists and backups. */
  async function snapshotWith(snapshotVolumes: object, backups: object[]) {
    const env = await setup();
    await env.put(R.vmSnapshotContent, 'vmsnapshot-content-1', {
      spec: { source: { virtualMachine: { spec: vmSpec } }, volumeBackups: backups },
    });
    await env.put(R.volumeSnapshot, 'vmsnapshot-1-volume-root', { spec: {} }, { readyToUse: true, restoreSize: '22763326669' });
    await env.put(
      R.vmSnapshot,
      snapshotName,
      { spec: {} },
      {
        phase: 'Succeeded',
        readyToUse: true,
        virtualMachineSnapshotContentName: 'vmsnapshot-content-1',
        snapshotVolumes,
      },
    );
    return env.cluster.waitVmSnapshot(SESSION, 'control-plane', 3, Date.now() + 2000);
  }
  const rootBackup = {
    volumeName: 'root',
    volumeSnapshotName: 'vmsnapshot-1-volume-root',
    persistentVolumeClaim: { metadata: { name: 'disk' }, spec: { resources: { requests: { storage: '22763326669' } } } },
  };

  // snapshot.go updateSnapshotSnapshotableVolumes lists every volume without a backup as excluded;
  // its unit test (snapshot_test.go "should update included and excluded volume") expects exactly that.
  it('accepts a snapshot whose root disk is backed up although cloud-init is excluded, as KubeVirt always excludes it', async () => {
    await expect(snapshotWith({ includedVolumes: ['root'], excludedVolumes: ['cloudinit'] }, [rootBackup])).resolves.toEqual({
      volumeSnapshot: 'vmsnapshot-1-volume-root',
      sizeBytes: 22763326669,
    });
  });

  it('rejects a snapshot that excluded the root disk (no VolumeSnapshotClass): a partial snapshot', async () => {
    await expect(snapshotWith({ excludedVolumes: ['root', 'cloudinit'] }, [])).rejects.toThrow(
      new ClusterFailure(
        'snapshot cks-control-plane-base-snapshot-v3 excluded volume(s) root: no VolumeSnapshotClass for their StorageClass, or an unbound claim (a partial, disk-less snapshot)',
      ),
    );
  });

  it('rejects a root disk listed as included but without a VolumeSnapshot in the content', async () => {
    await expect(
      snapshotWith({ includedVolumes: ['root'], excludedVolumes: ['cloudinit'] }, [{ ...rootBackup, volumeSnapshotName: undefined }]),
    ).rejects.toThrow('snapshot cks-control-plane-base-snapshot-v3 has no VolumeSnapshot of the root disk');
  });

  it('rejects a snapshot that lists the root disk nowhere', async () => {
    await expect(snapshotWith({ excludedVolumes: ['cloudinit'] }, [rootBackup])).rejects.toThrow(/excluded volume\(s\) root/);
  });
});

describe('waitVmSnapshot of a snapshot past its failureDeadline', () => {
  // kubevirt v1.8.0 pkg/storage/snapshot/snapshot.go updateSnapshotStatus: phase Failed with a Failure
  // condition whose reason is "snapshot deadline exceeded", and no error.
  it("fails with the Failure condition's reason", async () => {
    const { cluster, put } = await setup();
    await put(
      R.vmSnapshot,
      names.goldenSnapshot('worker', 2),
      { spec: {} },
      {
        phase: 'Failed',
        readyToUse: false,
        conditions: [{ type: 'Failure', status: 'True', reason: 'snapshot deadline exceeded' }],
      },
    );
    await expect(cluster.waitVmSnapshot(SESSION, 'worker', 2, Date.now() + 2000)).rejects.toThrow(/: snapshot deadline exceeded$/);
  });
});

describe('waitVms ready', () => {
  const vm = names.vm('control-plane', SESSION);
  const disk = names.rootDisk('control-plane', SESSION);
  const wait = (cluster: KubevirtCluster, ms: number) => cluster.waitVms(SESSION, ['control-plane'], 'ready', Date.now() + ms);

  // kubevirt v1.8.0 pkg/virt-controller/watch/vm/vm.go setPrintableStatus; DataVolumeError comes from
  // pkg/storage/types/dv.go HasDataVolumeErrors, which also counts a DataVolume whose importer CDI is
  // restarting (Running=False, reason Error); ErrImagePull from the VMI's Synchronized condition.
  for (const status of ['DataVolumeError', 'ErrImagePull', 'ErrorUnschedulable']) {
    it(`waits through ${status}, naming it, until the VM is ready`, async () => {
      const { api, cluster, put } = await setup();
      await put(R.vm, vm, { spec: {} }, { printableStatus: status, ready: false });
      await put(
        R.dataVolume,
        disk,
        { spec: {} },
        {
          phase: 'ImportInProgress',
          conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'Unable to process data: pod restarted' }],
        },
      );
      await expect(wait(cluster, 300)).rejects.toThrow(
        new RegExp(`deadline passed, still waiting for ${vm} \\(VM ${status}, not ready\\)`),
      );
      const ready = wait(cluster, 5000);
      // The in-memory API does not replay changes made between a list and its watch: let the wait watch first.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await api.patchStatus(R.vm, NS, vm, { printableStatus: 'Running', ready: true });
      await expect(ready).resolves.toBeUndefined();
    });
  }

  it('fails at once on CrashLoopBackOff: the instance failed before it ever ran', async () => {
    const { cluster, put } = await setup();
    await put(R.vm, vm, { spec: {} }, { printableStatus: 'CrashLoopBackOff', ready: false });
    const result = await outcome(wait(cluster, 60_000), 2000);
    expect(result).toMatchObject({ state: 'rejected', error: expect.objectContaining({ name: 'ClusterFailure' }) });
  });

  it("fails at once when the VM's DataVolume failed, although the VM only says DataVolumeError", async () => {
    const { cluster, put } = await setup();
    await put(R.vm, vm, { spec: {} }, { printableStatus: 'DataVolumeError', ready: false });
    await put(
      R.dataVolume,
      disk,
      { spec: {} },
      { phase: 'Failed', conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'clone failed' }] },
    );
    const result = await outcome(wait(cluster, 60_000), 2000);
    expect(result).toMatchObject({ state: 'rejected' });
    expect((result as { error: Error }).error.message).toMatch(new RegExp(`${disk}: DataVolume failed: clone failed`));
  });
});

describe('waiting for disks', () => {
  const disk = names.rootDisk('worker', SESSION);
  const refused = 'target resources requests storage size is smaller than the source 22763326669 < 24130098381';

  // containerized-data-importer v1.64.0: pkg/controller/clone/planner.go validateSourcePVC refuses the
  // target on every retry; clone-populator.go updateClonePhaseError records it on the claim; the
  // DataVolume controller shows it as Running=False/Error and keeps the phase
  // (clone-controller-base.go updateStatusPhaseForPopulator: "Avoid setting DV to failed").
  it('fails at once on a clone CDI refuses as smaller than its source, though the DataVolume never turns Failed', async () => {
    const { cluster, put } = await setup();
    await put(
      R.dataVolume,
      disk,
      { spec: {} },
      {
        phase: 'CloneScheduled',
        conditions: [
          { type: 'Bound', status: 'False', reason: 'Pending', message: `PVC ${disk} Pending` },
          { type: 'Running', status: 'False', reason: 'Error', message: refused },
        ],
      },
    );
    for (const target of ['disk-ready', 'ready'] as const) {
      const result = await outcome(cluster.waitVms(SESSION, ['worker'], target, Date.now() + 60_000), 2000);
      expect(result, target).toMatchObject({ state: 'rejected' });
      expect((result as { error: Error }).error).toBeInstanceOf(ClusterFailure);
      expect((result as { error: Error }).error.message).toContain(`CDI refuses the clone: ${refused}`);
    }
  });

  // pvc-clone-controller.go validateCloneAndSourcePVC / snapshot-clone-controller.go: the phase stays,
  // the Bound condition carries the reason.
  for (const [reason, message] of [
    ['CloneWithoutSource', "The source pvc cks-worker-golden-v3 doesn't exist"],
    [
      'CloneValidationFailed',
      "The clone doesn't meet the validation requirements: size not specified by user/provisioner, can't tell how much needed for restore",
    ],
  ]) {
    it(`fails at once on a clone CDI does not start (${reason})`, async () => {
      const { cluster, put } = await setup();
      await put(R.dataVolume, disk, { spec: {} }, { conditions: [{ type: 'Bound', status: 'False', reason, message }] });
      const result = await outcome(cluster.waitVms(SESSION, ['worker'], 'disk-ready', Date.now() + 60_000), 2000);
      expect(result).toMatchObject({ state: 'rejected' });
      expect((result as { error: Error }).error.message).toContain(message);
    });
  }

  it('waits through an importer CDI restarts (Running=False, reason Error), saying so', async () => {
    const { cluster, put } = await setup();
    await put(
      R.dataVolume,
      disk,
      { spec: {} },
      {
        phase: 'ImportInProgress',
        progress: '42.00%',
        conditions: [{ type: 'Running', status: 'False', reason: 'Error', message: 'Unable to connect to http data source' }],
      },
    );
    await expect(cluster.waitVms(SESSION, ['worker'], 'disk-ready', Date.now() + 300)).rejects.toThrow(
      new DeadlineError(
        `disk-ready of worker in ${NS}: deadline passed, still waiting for ${disk} (DataVolume ImportInProgress 42.00% (Error: Unable to connect to http data source))`,
      ),
    );
  });
});

describe('deleteVms', () => {
  it('returns only once the claims are gone too, however long pvc-protection holds them', async () => {
    const { api, cluster, put } = await setup();
    const disk = names.rootDisk('control-plane', SESSION);
    await put(R.vm, names.vm('control-plane', SESSION), { spec: {} });
    await put(R.dataVolume, disk, { spec: {} });
    // The API server's StorageObjectInUseProtection admission adds kubernetes.io/pvc-protection.
    await put(R.pvc, disk, { spec: {} });
    expect((await api.get(R.pvc, NS, disk))?.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);

    const deleted = cluster.deleteVms(SESSION, Date.now() + 10_000);
    expect(await outcome(deleted, 300)).toEqual({ state: 'pending' });
    expect((await api.get(R.pvc, NS, disk))?.metadata.deletionTimestamp).toBeDefined();
    await api.patch(R.pvc, NS, disk, { metadata: { finalizers: [] } });
    await expect(deleted).resolves.toBeUndefined();
    expect(await api.get(R.pvc, NS, disk)).toBeNull();
  });

  it('names the claim it still waits for, and its finalizers', async () => {
    const { cluster, put } = await setup();
    await put(R.pvc, names.rootDisk('worker', SESSION), { spec: {} });
    await expect(cluster.deleteVms(SESSION, Date.now() + 300)).rejects.toThrow(
      /still waiting for cks-worker-node-user-session-76c3ac1b-root \(terminating, finalizers kubernetes\.io\/pvc-protection\) to go/,
    );
  });
});

describe('clone RoleBindings', () => {
  it('are created in vm-templates and in the base image namespace, and deleted from both with the session', async () => {
    const settings = clusterSettings({ baseImage: { namespace: 'os-images', name: 'ubuntu' } });
    const { api, cluster } = await setup(settings, ['os-images']);
    await cluster.ensureSessionBase(SESSION);
    const binding = names.cloneRoleBinding(SESSION);
    expect(await api.get(R.roleBinding, 'vm-templates', binding)).not.toBeNull();
    expect(await api.get(R.roleBinding, 'os-images', binding)).not.toBeNull();
    await cluster.deleteSession(SESSION, Date.now() + 5000);
    expect(await api.get(R.roleBinding, 'vm-templates', binding)).toBeNull();
    expect(await api.get(R.roleBinding, 'os-images', binding)).toBeNull();
  });
});

describe('ensureGoldenCopy', () => {
  const disk = {
    role: 'worker' as const,
    volumeSnapshot: 'vmsnapshot-1-volume-root',
    pvc: names.goldenCopy('worker', 3),
    sizeBytes: 22763326669,
  };

  // containerized-data-importer v1.64.0 pkg/controller/datavolume/snapshot-clone-controller.go:
  // detectCloneSize takes the restoreSize when no size is asked for; validateSnapshotClone needs a
  // size when the restoreSize is 0.
  it("lets CDI size the copy from the snapshot's restoreSize, and asks for a size only when the snapshot has none", async () => {
    for (const [restoreSize, expected] of [
      ['22763326669', {}],
      ['0', { resources: { requests: { storage: '22763326669' } } }],
    ] as const) {
      const { api, cluster, put } = await setup();
      await put(R.volumeSnapshot, disk.volumeSnapshot, { spec: {} }, { readyToUse: true, restoreSize });
      await cluster.ensureGoldenCopy(3, disk, NS);
      const copy = await api.get<KubeObject & { spec: any }>(R.dataVolume, 'vm-templates', disk.pvc);
      expect(copy?.spec.storage, `restoreSize ${restoreSize}`).toEqual(expected);
    }
  });
});

// containerized-data-importer v1.64.0 pkg/controller/populators/clone-populator.go initTargetClaim
// writes cdi.kubevirt.io/cloneFallbackReason on the target claim only; the DataVolume never carries it
// (test/infra/control-plane/cdi.test.ts sees the same on the real cdi-controller).
describe('clone fallback reason', () => {
  const reason = 'The volume modes of source and target are incompatible';
  const fallbackClaim = (name: string, namespace: string) => ({
    metadata: { name, namespace, annotations: { 'cdi.kubevirt.io/cloneFallbackReason': reason } },
    spec: {},
  });

  it("is read from the golden copy's claim", async () => {
    const { cluster, put } = await setup();
    const name = names.goldenCopy('worker', 2);
    await put(R.dataVolume, name, { spec: {} }, { phase: 'CloneInProgress', progress: '10.0%' }, 'vm-templates');
    await put(R.pvc, name, fallbackClaim(name, 'vm-templates'), undefined, 'vm-templates');
    const worker = (await cluster.goldenDiskStates(2)).find((disk) => disk.role === 'worker');
    expect(worker).toMatchObject({ phase: 'CloneInProgress', cloneFallbackReason: reason });
  });

  it("shows on a session's DataVolume, from its claim of the same name", async () => {
    const { cluster, put } = await setup();
    const name = names.rootDisk('control-plane', SESSION);
    await put(R.dataVolume, name, { spec: {} }, { phase: 'CloneInProgress', progress: '5.0%' });
    await put(R.pvc, name, fallbackClaim(name, NS));
    const dv = (await cluster.sessionObjects(SESSION)).find((object) => object.kind === 'DataVolume');
    expect(dv?.phase).toBe(`CloneInProgress 5.0% (clone fallback: ${reason})`);
  });
});
