/**
 * cks-lab's flows end to end on a real API server, through core's Lab, the KubevirtCluster adapter
 * and ClientNodeObjectApi, authenticated as the cks-lab ServiceAccount bound only to deploy/'s RBAC
 * (every platform call below would fail with 403 if that RBAC lacked a verb). KubeVirt, CDI and the
 * snapshotter are played by the simulator's controllers with admin credentials.
 */
import { GOLDEN_NAMESPACE, names, ROLES } from '@cks-lab/core';
import { Informer, type KubeObject, R } from '@cks-lab/kubevirt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { installSnapshotPrerequisites } from './support/cluster-fixtures';
import { installDeployRbac } from './support/deploy-manifests';
import { flowMeasurements } from './support/flow-measurements';
import { type Platform, SETTINGS, startPlatform } from './support/platform';
import { describeWithApiServer, eventually, startApiServer } from './support/test-cluster';

type Obj = KubeObject & { spec?: any; status?: any };

describeWithApiServer('cks-lab flows on a real API server, as its own ServiceAccount', () => {
  let cluster: TestCluster;
  let platform: Platform;
  const { measure, provision, sessions, report } = flowMeasurements(() => platform);

  const vmsOf = async (sessionId: string) => (await platform.admin.list<Obj>(R.vm, names.namespace(sessionId))).items;

  beforeAll(async () => {
    cluster = await startApiServer();
    await installSnapshotPrerequisites(cluster, SETTINGS);
    platform = await startPlatform(cluster, await installDeployRbac(cluster));
  });
  afterAll(async () => {
    await platform?.stop();
    await cluster?.stop();
    report('platform API requests and time per flow');
  });

  it('bootstrap: without a golden image a session is provisioned to running', async () => {
    const { session, run, steps } = await provision('bootstrap session');
    expect(session.status).toBe('running');
    expect(run).toMatchObject({
      requestedStrategy: 'bootstrap',
      usedStrategy: 'bootstrap',
      fallbackReason: 'no-golden-image',
      outcome: 'succeeded',
    });
    expect(steps.map((s) => s.name)).toEqual([
      'prepare-namespace',
      'create-control-plane',
      'wait-control-plane-ready',
      'create-worker',
      'wait-cluster-ready',
    ]);
    const vms = await vmsOf(session.id);
    expect(vms.map((vm) => vm.status?.ready)).toEqual([true, true]);
    const objects = await platform.lab.sessionObjects(session.id);
    expect(objects.filter((o) => o.kind === 'DataVolume').map((o) => o.phase)).toEqual(['Succeeded', 'Succeeded']);
    // The clone permission into vm-templates exists for the session.
    expect(await platform.admin.get(R.roleBinding, GOLDEN_NAMESPACE, names.cloneRoleBinding(session.id))).not.toBeNull();
  });

  it('a partial snapshot fails the golden image build; the source keeps running and sessions stay on bootstrap', async () => {
    const source = sessions['bootstrap session']!;
    platform.faults.add('partial-snapshot');
    try {
      await platform.lab.createGolden(source.id);
      await platform.lab.idle();
    } finally {
      platform.faults.delete('partial-snapshot');
    }
    const status = await platform.lab.goldenStatus();
    expect(status.status).toBe('failed');
    expect(status.image!.failureReason).toMatch(/excluded volume\(s\) root.*no VolumeSnapshotClass/);
    expect(status).toMatchObject({ activeStrategy: 'bootstrap', reason: 'golden-build-failed' });
    // The build's clean-up started the source VMs again and left no snapshot behind.
    await eventually('the source session ready again', 30_000, async () =>
      (await vmsOf(source.id)).every((vm) => vm.spec.runStrategy === 'Always' && vm.status?.ready),
    );
    expect((await platform.admin.list(R.vmSnapshot, source.namespace)).items).toEqual([]);
  });

  it('golden image: halts the source, snapshots both VMs, copies the disks into vm-templates and switches the DataSources', async () => {
    const source = sessions['bootstrap session']!;
    const runStrategies = new Set<string>();
    const observer = new Informer<Obj>({
      api: platform.admin,
      type: R.vm,
      namespace: source.namespace,
      onChange: (_all, vm) => vm && runStrategies.add(vm.spec.runStrategy),
    });
    observer.start();
    const image = await measure('golden image build', async () => {
      const started = await platform.lab.createGolden(source.id);
      await platform.lab.idle();
      return started;
    });
    observer.stop();

    const status = await platform.lab.goldenStatus();
    expect(status).toMatchObject({ status: 'ready', activeStrategy: 'snapshot', reason: null });
    expect(status.image).toMatchObject({ version: image.version, phase: 'done' });
    expect(runStrategies).toEqual(new Set(['Halted', 'Always']));
    for (const role of ROLES) {
      const copy = await platform.admin.get<Obj>(R.dataVolume, GOLDEN_NAMESPACE, names.goldenCopy(role, image.version));
      expect(copy!.status.phase).toBe('Succeeded');
      expect(copy!.spec.source.snapshot.namespace).toBe(source.namespace);
      const dataSource = await platform.admin.get<Obj>(R.dataSource, GOLDEN_NAMESPACE, names.goldenDataSource(role));
      expect(dataSource!.spec.source.pvc).toEqual({ namespace: GOLDEN_NAMESPACE, name: names.goldenCopy(role, image.version) });
    }
    expect(status.image!.disks.every((disk) => disk.volumeSnapshot && disk.sizeBytes)).toBe(true);
    // The session-namespace snapshots are removed once the copies succeeded.
    expect((await platform.admin.list(R.vmSnapshot, source.namespace)).items).toEqual([]);
    expect((await vmsOf(source.id)).every((vm) => vm.spec.runStrategy === 'Always' && vm.status?.ready)).toBe(true);
  });

  it('snapshot: a new session clones both disks from the golden image and runs without a fallback', async () => {
    const { session, run } = await provision('snapshot session');
    expect(session.status).toBe('running');
    expect(run).toMatchObject({ requestedStrategy: 'snapshot', usedStrategy: 'snapshot', fallbackReason: null, outcome: 'succeeded' });
    for (const vm of await vmsOf(session.id)) {
      expect(vm.status.ready).toBe(true);
      expect(vm.spec.dataVolumeTemplates[0].spec.source.pvc).toMatchObject({
        namespace: GOLDEN_NAMESPACE,
        name: expect.stringMatching(/-golden-v2$/),
      });
    }
  });

  // The simulated CDI refuses the clone as CDI v1.64.0 does when its source is gone: Bound=False
  // CloneWithoutSource (pkg/controller/datavolume/pvc-clone-controller.go validateCloneAndSourcePVC).
  it('a failed clone falls back to bootstrap in the same run, after removing the failed attempt', async () => {
    platform.faults.add('clone-fail');
    let detail: Awaited<ReturnType<typeof provision>>;
    try {
      detail = await provision('failed clone, then bootstrap');
    } finally {
      platform.faults.delete('clone-fail');
    }
    expect(detail.session.status).toBe('running');
    expect(detail.run).toMatchObject({
      requestedStrategy: 'snapshot',
      usedStrategy: 'bootstrap',
      fallbackReason: 'snapshot-path-failed',
      outcome: 'succeeded',
    });
    expect(detail.run!.fallbackDetail).toMatch(/CloneWithoutSource/);
    expect(detail.steps.map((s) => `${s.strategy}:${s.name}:${s.outcome}`)).toContain('snapshot:remove-failed-attempt:succeeded');
    for (const vm of await vmsOf(detail.session.id))
      expect(vm.spec.dataVolumeTemplates[0].spec.sourceRef.name).toBe(SETTINGS.baseImage.name);
  });

  it('deleting every session leaves nothing behind: namespaces, their contents and the RoleBindings in vm-templates', async () => {
    const ids = Object.values(sessions).map((s) => s.id);
    await measure('delete 3 sessions', async () => {
      for (const id of ids) await platform.lab.deleteSession(id);
      await platform.lab.idle();
    });
    for (const id of ids) expect((await platform.lab.getSession(id)).session.status).toBe('terminated');
    const { admin } = platform;
    for (const id of ids) {
      expect(await admin.get(R.namespace, undefined, names.namespace(id))).toBeNull();
      const selector = `cks-lab.io/session=${id}`;
      for (const type of [R.roleBinding, R.vm, R.vmi, R.dataVolume, R.pvc, R.secret, R.vmSnapshot, R.volumeSnapshot]) {
        expect((await admin.list(type, undefined, selector)).items, `${type.plural} of ${id}`).toEqual([]);
      }
    }
    // Only the golden image and the base image remain in vm-templates.
    const pvcs = (await admin.list(R.pvc, GOLDEN_NAMESPACE)).items.map((p) => p.metadata.name).sort();
    expect(pvcs).toEqual(['cks-control-plane-golden-v2', 'cks-worker-golden-v2', SETTINGS.baseImage.name]);
    expect((await admin.list(R.roleBinding, GOLDEN_NAMESPACE)).items.map((b) => b.metadata.name)).toEqual(['cks-lab-golden']);
  });
});
