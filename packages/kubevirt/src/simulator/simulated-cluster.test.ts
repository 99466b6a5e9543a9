import { type Logger, names, ROLES, type Role } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubevirtCluster } from '../kubevirt-cluster';
import { DEFAULT_CLUSTER_SETTINGS } from '../manifests/settings';
import { virtualMachine } from '../manifests/virtual-machine';
import type { KubeObject } from '../object-api';
import { R } from '../resources';
import { waitFor } from '../wait';
import { withFilesystemOverhead } from './controllers';
import type { Fault } from './faults';
import { DEFAULT_LATENCY_MODEL } from './latency-model';
import { type SimulatedCluster, startSimulatedCluster } from './simulated-cluster';

/**
 * The adapter on the simulated cluster: the behaviours of the real controllers the simulator plays,
 * as the adapter meets them. Each test names the KubeVirt v1.8.0 or CDI v1.64.0 source it follows.
 */
type Obj = KubeObject & { spec?: any; status?: any };
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const TIME_SCALE = 0.002;
/** Long enough to see that nothing waits for the claims' release when it should. */
const CLAIM_RELEASE_SECONDS = 100;
const running: SimulatedCluster[] = [];
afterEach(() => {
  for (const sim of running.splice(0)) sim.stop();
});

async function simulate(faults: Fault[] = []): Promise<SimulatedCluster> {
  const sim = await startSimulatedCluster({
    settings: DEFAULT_CLUSTER_SETTINGS,
    model: { ...DEFAULT_LATENCY_MODEL, claimRelease: CLAIM_RELEASE_SECONDS },
    timeScale: TIME_SCALE,
    faults: new Set(faults),
    logger: silent,
  });
  running.push(sim);
  return sim;
}

const soon = () => Date.now() + 20_000;

async function bootstrapSession(cluster: KubevirtCluster, sessionId: string): Promise<void> {
  await cluster.ensureSessionBase(sessionId);
  await cluster.ensureVm(sessionId, 'control-plane', { kind: 'base-image' });
  await cluster.waitVms(sessionId, ['control-plane'], 'ready', soon());
  await cluster.ensureVm(sessionId, 'worker', { kind: 'base-image' });
  await cluster.waitVms(sessionId, ROLES, 'ready', soon());
}

/** The golden build's cluster steps up to the VM snapshots, as core's golden-image flow calls them. */
async function snapshotSession(cluster: KubevirtCluster, sessionId: string, version: number) {
  await cluster.setRunStrategy(sessionId, ROLES, 'Halted');
  await cluster.waitVms(sessionId, ROLES, 'stopped', soon());
  for (const role of ROLES) await cluster.ensureVmSnapshot(sessionId, role, version);
  const results = await Promise.allSettled(ROLES.map((role) => cluster.waitVmSnapshot(sessionId, role, version, soon())));
  await cluster.setRunStrategy(sessionId, ROLES, 'Always');
  return results;
}

const quantity = (object: Obj | null) => object?.spec?.resources?.requests?.storage;

describe('the simulated cluster', { timeout: 60_000 }, () => {
  // kubevirt v1.8.0 pkg/storage/snapshot/snapshot.go updateSnapshotSnapshotableVolumes: every volume
  // without a backup is listed as excluded — cloud-init always; updateSnapshotSourceIndications: an
  // offline snapshot (the VM halted) has no indications.
  it('snapshots a halted VM as KubeVirt does (cloud-init excluded, root backed up), and the golden build accepts it', async () => {
    const sim = await simulate();
    await bootstrapSession(sim.cluster, 'a0000001');
    const results = await snapshotSession(sim.cluster, 'a0000001', 1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    for (const role of ROLES) {
      const snapshot = await sim.api.get<Obj>(R.vmSnapshot, names.namespace('a0000001'), names.goldenSnapshot(role, 1));
      expect(snapshot?.status?.snapshotVolumes).toEqual({ includedVolumes: ['root'], excludedVolumes: ['cloudinit'] });
      expect(snapshot?.status?.indications).toBeUndefined();
    }
  });

  it('partial-snapshot: without a VolumeSnapshotClass the root disk is excluded too, and the golden build refuses the snapshot', async () => {
    const sim = await simulate(['partial-snapshot']);
    await bootstrapSession(sim.cluster, 'a0000002');
    const results = await snapshotSession(sim.cluster, 'a0000002', 1);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.message).toMatch(/excluded volume\(s\) root: no VolumeSnapshotClass/);
    }
    const snapshot = await sim.api.get<Obj>(R.vmSnapshot, names.namespace('a0000002'), names.goldenSnapshot('worker', 1));
    expect(snapshot?.status?.snapshotVolumes).toEqual({ excludedVolumes: ['root', 'cloudinit'] });
  });

  // containerized-data-importer v1.64.0: pkg/controller/datavolume/util.go renderPvcSpecVolumeSize
  // inflates a requested size by the filesystem overhead; snapshot-clone-controller.go detectCloneSize
  // gives an unsized copy the restoreSize; pkg/controller/clone/planner.go validateSourcePVC refuses
  // a target claim smaller than its source claim, and the DataVolume then shows Running=False/Error
  // but never Failed (clone-controller-base.go updateStatusPhaseForPopulator).
  it('clones golden disks on Filesystem storage, and refuses a clone target smaller than its golden source as CDI does', async () => {
    const sim = await simulate();
    await bootstrapSession(sim.cluster, 'a0000003');
    const source = names.namespace('a0000003');
    const snapshots = await snapshotSession(sim.cluster, 'a0000003', 1);
    for (const [i, role] of ROLES.entries()) {
      const result = snapshots[i] as PromiseFulfilledResult<{ volumeSnapshot: string; sizeBytes: number }>;
      await sim.cluster.ensureGoldenCopy(
        1,
        { role, volumeSnapshot: result.value.volumeSnapshot, pvc: names.goldenCopy(role, 1), sizeBytes: result.value.sizeBytes },
        source,
      );
    }
    await sim.cluster.waitGoldenCopies(1, soon());

    // The session disk carries the overhead once, the golden copy exactly the snapshot's restoreSize.
    const sessionDisk = await sim.api.get<Obj>(R.pvc, source, names.rootDisk('worker', 'a0000003'));
    expect(quantity(sessionDisk)).toBe(String(withFilesystemOverhead(20 * 2 ** 30)));
    const golden = await sim.api.get<Obj>(R.pvc, 'vm-templates', names.goldenCopy('worker', 1));
    expect(quantity(golden)).toBe(quantity(sessionDisk));

    // A session restored from it: CDI sizes its clones from the golden PVCs.
    await sim.cluster.ensureSessionBase('a0000004');
    for (const role of ROLES) await sim.cluster.ensureVm('a0000004', role, { kind: 'golden', version: 1, pvc: names.goldenCopy(role, 1) });
    await sim.cluster.waitVms('a0000004', ROLES, 'disk-ready', soon());
    const clone = await sim.api.get<Obj>(R.pvc, names.namespace('a0000004'), names.rootDisk('worker', 'a0000004'));
    expect(quantity(clone)).toBe(quantity(golden));

    // Sized the way this adapter used to: the copy asked for max(disk size, restoreSize), which CDI
    // inflates once more, and the VM asked for the configured 20Gi, inflated once: smaller than its source.
    const result = snapshots[1] as PromiseFulfilledResult<{ volumeSnapshot: string; sizeBytes: number }>;
    await sim.api.create({
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'DataVolume',
      metadata: { name: 'cks-worker-golden-v2', namespace: 'vm-templates' },
      spec: {
        source: { snapshot: { namespace: source, name: result.value.volumeSnapshot } },
        storage: { resources: { requests: { storage: String(result.value.sizeBytes) } } },
      },
    });
    await waitFor<Obj>({
      api: sim.api,
      type: R.dataVolume,
      namespace: 'vm-templates',
      deadlineAt: soon(),
      label: 'the old-style copy',
      evaluate: (objects) =>
        objects.get('vm-templates/cks-worker-golden-v2')?.status?.phase === 'Succeeded'
          ? { done: true }
          : { done: false, waitingFor: 'it' },
    });
    expect(quantity(await sim.api.get<Obj>(R.pvc, 'vm-templates', 'cks-worker-golden-v2'))).toBe(
      String(withFilesystemOverhead(result.value.sizeBytes)),
    );
    await sim.cluster.ensureSessionBase('a0000005');
    const vm = virtualMachine(
      'a0000005',
      'worker',
      { kind: 'golden', version: 2, pvc: 'cks-worker-golden-v2' },
      DEFAULT_CLUSTER_SETTINGS,
    ) as Obj;
    vm.spec.dataVolumeTemplates[0].spec.storage = { resources: { requests: { storage: '20Gi' } } };
    await sim.api.create(vm);
    const started = Date.now();
    await expect(sim.cluster.waitVms('a0000005', ['worker'], 'ready', soon())).rejects.toThrow(
      /CDI refuses the clone: target resources requests storage size is smaller than the source \d+ < \d+/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const disk = await sim.api.get<Obj>(R.dataVolume, names.namespace('a0000005'), names.rootDisk('worker', 'a0000005'));
    expect(disk?.status?.phase).toBe('CloneScheduled');
    expect(disk?.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Running', status: 'False', reason: 'Error' }));
    // kubevirt v1.8.0 pkg/storage/types/dv.go HasDataVolumeErrors: Running=False/Error is a DataVolumeError.
    const vmKey = `${names.namespace('a0000005')}/${vm.metadata.name}`;
    await waitFor<Obj>({
      api: sim.api,
      type: R.vm,
      namespace: names.namespace('a0000005'),
      deadlineAt: soon(),
      label: 'the VM of the refused clone',
      evaluate: (objects) =>
        objects.get(vmKey)?.status?.printableStatus === 'DataVolumeError'
          ? { done: true }
          : { done: false, waitingFor: String(objects.get(vmKey)?.status?.printableStatus) },
    });
    // Still not Failed: CDI keeps retrying the refused clone.
    expect((await sim.api.get<Obj>(R.dataVolume, names.namespace('a0000005'), names.rootDisk('worker', 'a0000005')))?.status?.phase).toBe(
      'CloneScheduled',
    );
  });

  // kube-controller-manager's pvc-protection keeps a deleted claim until no pod uses it;
  // containerized-data-importer v1.64.0 pkg/controller/datavolume/controller-base.go validatePVC: a
  // DataVolume waits while a claim of its name is being deleted.
  it('removes a failed attempt only once its claims are gone, so the next attempt gets claims of its own', async () => {
    const sim = await simulate();
    const sessionId = 'a0000006';
    const namespace = names.namespace(sessionId);
    await bootstrapSession(sim.cluster, sessionId);
    const uids = async () =>
      Object.fromEntries(
        await Promise.all(
          ROLES.map(async (role: Role) => [
            role,
            (await sim.api.get<Obj>(R.pvc, namespace, names.rootDisk(role, sessionId)))?.metadata.uid,
          ]),
        ),
      );
    const first = await uids();

    await sim.cluster.deleteVms(sessionId, soon());
    expect((await sim.api.list(R.pvc, namespace)).items).toEqual([]);

    await bootstrapSession(sim.cluster, sessionId);
    const second = await uids();
    for (const role of ROLES) {
      expect(second[role]).toBeDefined();
      expect(second[role]).not.toBe(first[role]);
    }
    await sim.cluster.deleteSession(sessionId, soon());
    expect(await sim.api.get(R.namespace, undefined, namespace)).toBeNull();
  });

  it('makes a DataVolume wait while a claim of its name is still being deleted', async () => {
    const sim = await simulate();
    const sessionId = 'a0000007';
    const namespace = names.namespace(sessionId);
    await bootstrapSession(sim.cluster, sessionId);
    const disk = names.rootDisk('worker', sessionId);
    const old = await sim.api.get<Obj>(R.dataVolume, namespace, disk);
    const oldClaim = await sim.api.get<Obj>(R.pvc, namespace, disk);
    // The VM goes, and with it (garbage collection) its instance, its DataVolume and — once released — its claim.
    await sim.api.delete(R.vm, namespace, names.vm('worker', sessionId));
    expect(await sim.api.get(R.dataVolume, namespace, disk)).toBeNull();
    expect((await sim.api.get<Obj>(R.pvc, namespace, disk))?.metadata.deletionTimestamp).toBeDefined();
    await sim.api.create({ apiVersion: old!.apiVersion, kind: old!.kind, metadata: { name: disk, namespace }, spec: old!.spec });
    await sim.cluster.waitVms(sessionId, ['worker'], 'disk-ready', soon());
    const claim = await sim.api.get<Obj>(R.pvc, namespace, disk);
    expect(claim?.metadata.uid).not.toBe(oldClaim?.metadata.uid);
    expect(claim?.metadata.deletionTimestamp).toBeUndefined();
  });
});
