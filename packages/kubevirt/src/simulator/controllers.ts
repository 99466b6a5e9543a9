import { errorMessage, GOLDEN_NAMESPACE, type Logger } from '@cks-lab/core';
import { Informer } from '../informer';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from '../object-api';
import { R, apiVersionOf, type ResourceType } from '../resources';
import type { Fault } from './faults';
import type { LatencyModel } from './latency-model';

/** When the current simulated operation on an object completes (epoch ms), kept on the object so a restart resumes it. */
const DONE_AT = 'sim.cks-lab.io/done-at';
const READY_AT = 'sim.cks-lab.io/ready-at';
/** Set on a VM whose guest has completed its first boot: later boots are plain reboots. */
const INITIALIZED = 'sim.cks-lab.io/initialized';

export interface ControllerOptions {
  api: ObjectApi;
  model: LatencyModel;
  /** Wall-clock milliseconds per model second divided by 1000: 0.05 plays 300 s in 15 s. */
  timeScale: number;
  faults: ReadonlySet<Fault>;
  logger: Logger;
}

type Obj = KubeObject & { spec?: any; status?: any };

/**
 * Plays the controllers of KubeVirt, CDI and the CSI snapshotter: DataVolume clones, VM start and
 * halt, guest boot (kubeadm or restore) and VM snapshots. Level-triggered: every reconcile reads the
 * object and moves it one step; pending work is recorded as annotations, so the same controllers
 * drive the in-memory simulator and a real kube-apiserver, and survive restarts of either.
 */
export class SimulatedControllers {
  private readonly informers: Informer<Obj>[] = [];
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly queue = new Map<string, { type: ResourceType; object: Obj }>();
  private draining = false;
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {}

  start(): void {
    for (const type of [R.vm, R.dataVolume, R.vmSnapshot, R.vmi]) {
      const informer = new Informer<Obj>({
        api: this.options.api,
        type,
        onChange: (objects, changed) => {
          for (const object of changed ? [changed] : objects.values()) this.enqueue(type, object);
          if (!changed) return;
          // A VM reacts to its disks and instance, and to its sibling (the worker joins a ready control plane).
          for (const owner of changed.metadata.ownerReferences ?? []) {
            if (owner.kind === R.vm.kind) this.enqueue(R.vm, { ...changed, metadata: { name: owner.name, namespace: changed.metadata.namespace } });
          }
          if (type === R.vm) for (const o of objects.values()) if (o.metadata.namespace === changed.metadata.namespace) this.enqueue(type, o);
        },
        onError: (error) => this.options.logger.warn({ error: errorMessage(error) }, 'simulator watch interrupted; re-listing'),
      });
      this.informers.push(informer);
      informer.start();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const informer of this.informers) informer.stop();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private ms(modelSeconds: number): number {
    return Math.round(modelSeconds * 1000 * this.options.timeScale);
  }

  private enqueue(type: ResourceType, object: Obj): void {
    if (this.stopped) return;
    this.queue.set(keyOf(type, object), { type, object });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    while (this.queue.size > 0 && !this.stopped) {
      const [key, item] = this.queue.entries().next().value as [string, { type: ResourceType; object: Obj }];
      this.queue.delete(key);
      const current = await this.options.api.get<Obj>(item.type, item.object.metadata.namespace, item.object.metadata.name).catch(() => null);
      if (!current) continue;
      try {
        await this.reconcile(item.type, current);
      } catch (error) {
        if (this.stopped) break;
        // A namespace being deleted takes its objects with it: nothing left to reconcile there.
        if (await this.namespaceGoing(current.metadata.namespace)) continue;
        this.options.logger.warn({ object: key, error: errorMessage(error) }, 'simulated controller retrying');
        this.later(item.type, current, Date.now() + 200);
      }
    }
    this.draining = false;
  }

  private async namespaceGoing(namespace: string | undefined): Promise<boolean> {
    if (!namespace) return false;
    const ns = await this.options.api.get(R.namespace, undefined, namespace).catch(() => undefined);
    return ns === null || Boolean(ns?.metadata.deletionTimestamp);
  }

  private reconcile(type: ResourceType, object: Obj): Promise<void> {
    if (type === R.dataVolume) return this.reconcileDataVolume(object);
    if (type === R.vm) return this.reconcileVm(object);
    if (type === R.vmSnapshot) return this.reconcileSnapshot(object);
    return Promise.resolve();
  }

  /** Re-reconciles the object at `at` (epoch ms). */
  private later(type: ResourceType, object: Obj, at: number): void {
    const key = keyOf(type, object);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.enqueue(type, object);
    }, Math.max(0, at - Date.now()));
    timer.unref?.();
    this.timers.set(key, timer);
  }

  /** Returns the recorded due time of the object's current operation, recording it first if absent. */
  private async dueAt(type: ResourceType, object: Obj, annotation: string, modelSeconds: number): Promise<number> {
    const recorded = Number(object.metadata.annotations?.[annotation]);
    if (Number.isFinite(recorded) && recorded > 0) return recorded;
    const at = Date.now() + this.ms(modelSeconds);
    await this.options.api.patch(type, object.metadata.namespace, object.metadata.name, {
      metadata: { annotations: { [annotation]: String(at) } },
    });
    return at;
  }

  // CDI: DataVolumes

  private async reconcileDataVolume(dv: Obj): Promise<void> {
    const phase = dv.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const { namespace, name } = dv.metadata;
    const source = dv.spec?.source ?? {};
    const fromGolden = source.pvc?.namespace === GOLDEN_NAMESPACE && namespace !== GOLDEN_NAMESPACE;
    const fromSnapshot = Boolean(source.snapshot);
    const faults = this.options.faults;
    await this.ensurePvc(dv);
    if ((fromGolden && faults.has('clone-fail')) || (fromSnapshot && faults.has('golden-copy-fail'))) {
      await this.options.api.patchStatus(R.dataVolume, namespace, name, {
        phase: 'Failed',
        progress: 'N/A',
        conditions: [condition('Running', 'False', 'CloneFailed', 'simulated fault: the clone source could not be read')],
      });
      return;
    }
    if (fromGolden) {
      const sourcePvc = await this.options.api.get(R.pvc, GOLDEN_NAMESPACE, source.pvc.name);
      if (!sourcePvc) {
        await this.options.api.patchStatus(R.dataVolume, namespace, name, {
          phase: 'Failed',
          conditions: [condition('Running', 'False', 'SourceNotFound', `source PVC ${GOLDEN_NAMESPACE}/${source.pvc.name} not found`)],
        });
        return;
      }
    }
    if (fromGolden && faults.has('stuck-clone')) {
      if (phase !== 'CloneInProgress') await this.options.api.patchStatus(R.dataVolume, namespace, name, { phase: 'CloneInProgress', progress: '12.00%' });
      return;
    }
    const model = this.options.model;
    const seconds = fromGolden ? model.goldenSmartClone : fromSnapshot ? model.goldenCopy : model.baseImageClone;
    const doneAt = await this.dueAt(R.dataVolume, dv, DONE_AT, seconds);
    if (Date.now() < doneAt) {
      if (phase !== 'CloneInProgress') await this.options.api.patchStatus(R.dataVolume, namespace, name, { phase: 'CloneInProgress', progress: '0.00%' });
      return this.later(R.dataVolume, dv, doneAt);
    }
    await this.options.api.patchStatus(R.pvc, namespace, name, { phase: 'Bound' });
    await this.options.api.patchStatus(R.dataVolume, namespace, name, {
      phase: 'Succeeded',
      progress: '100.0%',
      claimName: name,
      conditions: [condition('Ready', 'True', 'Completed', 'simulated clone completed')],
    });
  }

  /** CDI creates the DataVolume's PVC under the same name, owned by the DataVolume. */
  private async ensurePvc(dv: Obj): Promise<void> {
    const storage = dv.spec?.storage?.resources?.requests?.storage ?? '20Gi';
    await this.createIfAbsent({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: dv.metadata.name, namespace: dv.metadata.namespace, labels: dv.metadata.labels, ownerReferences: [ownerRef(R.dataVolume, dv)] },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, ...(dv.spec?.storage?.storageClassName ? { storageClassName: dv.spec.storage.storageClassName } : {}) },
    });
  }

  // KubeVirt: VirtualMachines and their instances

  private async reconcileVm(vm: Obj): Promise<void> {
    const { namespace, name } = vm.metadata;
    const api = this.options.api;
    for (const template of vm.spec?.dataVolumeTemplates ?? []) {
      await this.createIfAbsent({
        apiVersion: apiVersionOf(R.dataVolume),
        kind: 'DataVolume',
        metadata: { name: template.metadata.name, namespace, labels: vm.metadata.labels, ownerReferences: [ownerRef(R.vm, vm)] },
        spec: template.spec,
      });
    }
    const dvs = await Promise.all((vm.spec?.dataVolumeTemplates ?? []).map((t: any) => api.get<Obj>(R.dataVolume, namespace, t.metadata.name)));
    const vmi = await api.get<Obj>(R.vmi, namespace, name);
    const setVmStatus = (status: object) => api.patchStatus(R.vm, namespace, name, status);

    if (vm.spec?.runStrategy === 'Halted') {
      if (!vmi) {
        if (vm.status?.printableStatus !== 'Stopped') await setVmStatus({ printableStatus: 'Stopped', ready: false, created: false });
        return;
      }
      const haltAt = await this.dueAt(R.vmi, vmi, DONE_AT + '-halt', this.options.model.vmHalt);
      if (vm.status?.printableStatus !== 'Stopping') await setVmStatus({ printableStatus: 'Stopping', ready: false });
      if (Date.now() < haltAt) return this.later(R.vm, vm, haltAt);
      await api.delete(R.vmi, namespace, name);
      await setVmStatus({ printableStatus: 'Stopped', ready: false, created: false });
      return;
    }

    if (dvs.some((dv) => dv?.status?.phase === 'Failed')) {
      if (vm.status?.printableStatus !== 'DataVolumeError') await setVmStatus({ printableStatus: 'DataVolumeError', ready: false });
      return;
    }
    if (!dvs.every((dv) => dv?.status?.phase === 'Succeeded')) {
      if (vm.status?.printableStatus !== 'Provisioning') await setVmStatus({ printableStatus: 'Provisioning', ready: false });
      return;
    }
    if (!vmi) {
      await this.createIfAbsent({
        apiVersion: apiVersionOf(R.vmi),
        kind: 'VirtualMachineInstance',
        metadata: { name, namespace, labels: vm.spec?.template?.metadata?.labels, ownerReferences: [ownerRef(R.vm, vm)] },
        spec: vm.spec?.template?.spec ?? {},
      });
      await setVmStatus({ printableStatus: 'Starting', ready: false, created: true });
      return;
    }
    const runningAt = await this.dueAt(R.vmi, vmi, DONE_AT, this.options.model.vmStart);
    if (Date.now() < runningAt) {
      if (vmi.status?.phase !== 'Scheduling') await api.patchStatus(R.vmi, namespace, name, { phase: 'Scheduling' });
      return this.later(R.vm, vm, runningAt);
    }
    if (vmi.status?.phase !== 'Running') {
      await api.patchStatus(R.vmi, namespace, name, { phase: 'Running' });
      await setVmStatus({ printableStatus: 'Running', ready: false });
    }
    if (vm.status?.ready) return;
    if (!(await this.guestMayBecomeReady(vm))) return;
    const readyAt = await this.dueAt(R.vmi, vmi, READY_AT, this.bootSeconds(vm));
    if (Date.now() < readyAt) return this.later(R.vm, vm, readyAt);
    await api.patchStatus(R.vmi, namespace, name, {
      conditions: [condition('Ready', 'True', 'GuestReady', 'simulated readiness probe succeeded')],
    });
    if (!vm.metadata.annotations?.[INITIALIZED]) {
      await api.patch(R.vm, namespace, name, { metadata: { annotations: { [INITIALIZED]: 'true' } } });
    }
    await setVmStatus({ printableStatus: 'Running', ready: true });
  }

  private booted(vm: Obj): boolean {
    return Boolean(vm.metadata.labels?.['cks-lab.io/golden-version'] || vm.metadata.annotations?.[INITIALIZED]);
  }

  /** How long the guest takes from boot to ready: a restored cluster or a reboot, kubeadm init, or a join. */
  private bootSeconds(vm: Obj): number {
    const model = this.options.model;
    if (this.booted(vm)) return model.restoredBoot;
    return vm.metadata.labels?.['cks-lab.io/role'] === 'worker' ? model.workerJoin : model.controlPlaneBootstrap;
  }

  /** A bootstrapped worker can only join once its control plane is ready. */
  private async guestMayBecomeReady(vm: Obj): Promise<boolean> {
    if (this.booted(vm) || vm.metadata.labels?.['cks-lab.io/role'] !== 'worker') return true;
    const { items } = await this.options.api.list<Obj>(R.vm, vm.metadata.namespace);
    return items.some((o) => o.metadata.labels?.['cks-lab.io/role'] === 'control-plane' && o.status?.ready === true);
  }

  // Snapshots: VirtualMachineSnapshot, its content and the CSI VolumeSnapshots

  private async reconcileSnapshot(snapshot: Obj): Promise<void> {
    const phase = snapshot.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const { namespace, name } = snapshot.metadata;
    const api = this.options.api;
    const vm = await api.get<Obj>(R.vm, namespace, snapshot.spec?.source?.name);
    if (!vm) {
      await api.patchStatus(R.vmSnapshot, namespace, name, { phase: 'Failed', readyToUse: false, error: { message: 'source VM not found' } });
      return;
    }
    const doneAt = await this.dueAt(R.vmSnapshot, snapshot, DONE_AT, this.options.model.vmSnapshot);
    if (Date.now() < doneAt) {
      if (phase !== 'InProgress') await api.patchStatus(R.vmSnapshot, namespace, name, { phase: 'InProgress', readyToUse: false });
      return this.later(R.vmSnapshot, snapshot, doneAt);
    }
    const partial = this.options.faults.has('partial-snapshot');
    const contentName = `vmsnapshot-content-${snapshot.metadata.uid}`;
    const volumes = (vm.spec?.template?.spec?.volumes ?? []).filter((v: any) => v.dataVolume);
    const backups = [];
    for (const volume of partial ? [] : volumes) {
      const pvc = await api.get<Obj>(R.pvc, namespace, volume.dataVolume.name);
      const volumeSnapshotName = `vmsnapshot-${snapshot.metadata.uid}-volume-${volume.name}`;
      backups.push({
        volumeName: volume.name,
        volumeSnapshotName,
        persistentVolumeClaim: { metadata: { name: volume.dataVolume.name }, spec: pvc?.spec ?? {} },
      });
    }
    await this.createIfAbsent({
      apiVersion: apiVersionOf(R.vmSnapshotContent),
      kind: 'VirtualMachineSnapshotContent',
      metadata: { name: contentName, namespace, ownerReferences: [ownerRef(R.vmSnapshot, snapshot)] },
      spec: { source: { virtualMachine: { metadata: { name: vm.metadata.name, namespace }, spec: vm.spec } }, virtualMachineSnapshotName: name, volumeBackups: backups },
    });
    const content = await api.get<Obj>(R.vmSnapshotContent, namespace, contentName);
    for (const backup of backups) {
      await this.createIfAbsent({
        apiVersion: apiVersionOf(R.volumeSnapshot),
        kind: 'VolumeSnapshot',
        metadata: { name: backup.volumeSnapshotName, namespace, ownerReferences: content ? [ownerRef(R.vmSnapshotContent, content)] : [] },
        spec: { source: { persistentVolumeClaimName: backup.persistentVolumeClaim.metadata.name } },
      });
      const size = backup.persistentVolumeClaim.spec?.resources?.requests?.storage ?? '20Gi';
      await api.patchStatus(R.volumeSnapshot, namespace, backup.volumeSnapshotName, { readyToUse: true, restoreSize: size });
    }
    const volumeNames = volumes.map((v: any) => v.name as string);
    await api.patchStatus(R.vmSnapshot, namespace, name, {
      phase: 'Succeeded',
      readyToUse: true,
      virtualMachineSnapshotContentName: contentName,
      creationTime: new Date().toISOString(),
      indications: ['NoGuestAgent'],
      snapshotVolumes: partial ? { excludedVolumes: volumeNames } : { includedVolumes: volumeNames },
    });
  }

  private async createIfAbsent(object: KubeObject): Promise<void> {
    try {
      await this.options.api.create(object);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

function keyOf(type: ResourceType, object: KubeObject): string {
  return `${type.plural}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function ownerRef(type: ResourceType, owner: KubeObject) {
  return { apiVersion: apiVersionOf(type), kind: type.kind, name: owner.metadata.name, uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string) {
  return { type, status, reason, message, lastTransitionTime: new Date().toISOString() };
}
