import { errorMessage, GOLDEN_NAMESPACE, NotFoundError, type Logger } from '@cks-lab/core';
import { Informer } from '../informer';
import { quantityBytes } from '../manifests/quantity';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from '../object-api';
import { R, apiVersionOf, type ResourceType } from '../resources';
import type { Fault } from './faults';
import type { LatencyModel } from './latency-model';
import { PVC_PROTECTION_FINALIZER } from './memory-object-api';

/** When the current simulated operation on an object completes (epoch ms), kept on the object so a restart resumes it. */
const DONE_AT = 'sim.cks-lab.io/done-at';
const READY_AT = 'sim.cks-lab.io/ready-at';
/** Set on a VM whose guest has completed its first boot: later boots are plain reboots. */
const INITIALIZED = 'sim.cks-lab.io/initialized';
/** How soon a controller looks again at something it waits for without a watch event (CDI's requeue). */
const RECHECK_MS = 200;
/**
 * CDI's default filesystem overhead (pkg/common/common.go DefaultGlobalOverhead, v1.64.0) and the
 * alignment it rounds an image to first (pkg/util/util.go GetRequiredSpace).
 */
const FILESYSTEM_OVERHEAD = 0.06;
const ALIGN_BYTES = 2 ** 20;

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
 * Plays the controllers of KubeVirt, CDI, the CSI snapshotter and kube-controller-manager's
 * pvc-protection: DataVolume clones, VM start and halt, guest boot (kubeadm or restore), VM
 * snapshots and the release of deleted claims. Level-triggered: every reconcile reads the
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
    for (const type of [R.vm, R.dataVolume, R.vmSnapshot, R.vmi, R.pvc]) {
      const informer = new Informer<Obj>({
        api: this.options.api,
        type,
        onChange: (objects, changed) => {
          for (const object of changed ? [changed] : objects.values()) this.enqueue(type, object);
          if (!changed) return;
          const namespace = changed.metadata.namespace;
          // A claim in use by a VM's pod is released once the instance is gone.
          if (type === R.vmi) for (const claim of claimsOf(changed)) this.enqueue(R.pvc, { ...changed, metadata: { name: claim, namespace } });
          // CDI waits for an old claim of its DataVolume's name to go before it creates its own.
          if (type === R.pvc) this.enqueue(R.dataVolume, { ...changed, metadata: { name: changed.metadata.name, namespace } });
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
    if (type === R.pvc) return this.releaseClaim(object);
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
    const api = this.options.api;
    const setStatus = (status: object) => api.patchStatus(R.dataVolume, namespace, name, status);
    const fromGolden = dv.spec?.source?.pvc?.namespace === GOLDEN_NAMESPACE && namespace !== GOLDEN_NAMESPACE;
    const fromSnapshot = Boolean(dv.spec?.source?.snapshot);
    const faults = this.options.faults;

    // CDI (pkg/controller/datavolume/controller-base.go validatePVC) waits while a claim of this name is
    // being deleted or belongs to someone else, and takes it up again when that claim is gone.
    const existing = await api.get<Obj>(R.pvc, namespace, name);
    if (existing && (existing.metadata.deletionTimestamp || !ownedBy(existing, dv))) return;

    // clone-fail: the golden copy is gone from under the clone, the one way a clone from it ends for
    // good on the real CDI (v1.64.0 never marks a clone DataVolume Failed: clone-controller-base.go
    // updateStatusPhaseForPopulator).
    const source = fromGolden && faults.has('clone-fail') ? { missing: `pvc ${dv.spec.source.pvc.name}` } : await this.cloneSource(dv);
    if (!existing) {
      // Checked before CDI creates the claim (pvc-clone-controller.go validateCloneAndSourcePVC,
      // snapshot-clone-controller.go validateCloneAndSourceSnapshot): the phase stays, the Bound
      // condition says why, and CDI looks again later.
      if (source.missing) {
        const message = `The source ${source.missing} doesn't exist`;
        if (!hasCondition(dv, 'Bound', 'CloneWithoutSource', message)) await setStatus(notBound('CloneWithoutSource', message));
        return this.later(R.dataVolume, dv, Date.now() + RECHECK_MS);
      }
      const size = claimSize(dv, source);
      if ('invalid' in size) {
        const message = `The clone doesn't meet the validation requirements: ${size.invalid}`;
        if (!hasCondition(dv, 'Bound', 'CloneValidationFailed', message)) await setStatus(notBound('CloneValidationFailed', message));
        return;
      }
      await this.ensurePvc(dv, size.bytes);
    }
    const claim = existing ?? (await api.get<Obj>(R.pvc, namespace, name));
    const refused = claim ? refusal(dv, claim, source) : undefined;
    if (refused) {
      // pkg/controller/clone/planner.go validateSourcePVC refuses the target claim; the clone populator
      // records the error on the claim, and the DataVolume shows it as Running=False/Error without ever
      // becoming Failed (clone-controller-base.go updateStatusPhaseForPopulator). CDI retries for ever.
      if (!hasCondition(dv, 'Running', 'Error', refused)) {
        await setStatus({
          phase: 'CloneScheduled',
          progress: 'N/A',
          conditions: [condition('Bound', 'False', 'Pending', `PVC ${name} Pending`), condition('Ready', 'False', '', ''), condition('Running', 'False', 'Error', refused)],
        });
      }
      return;
    }
    if (fromSnapshot && faults.has('golden-copy-fail')) {
      await setStatus({
        phase: 'Failed',
        progress: 'N/A',
        conditions: [condition('Running', 'False', 'CloneFailed', 'simulated fault: the snapshot could not be read')],
      });
      return;
    }
    if (fromGolden && faults.has('stuck-clone')) {
      if (phase !== 'CloneFromSnapshotSourceInProgress') await setStatus({ phase: 'CloneFromSnapshotSourceInProgress', progress: 'N/A' });
      return;
    }
    const model = this.options.model;
    const seconds = fromGolden ? model.goldenSmartClone : fromSnapshot ? model.goldenCopy : model.baseImageClone;
    const doneAt = await this.dueAt(R.dataVolume, dv, DONE_AT, seconds);
    if (Date.now() < doneAt) {
      const next = clonePhase(fromSnapshot, 1 - (doneAt - Date.now()) / Math.max(1, this.ms(seconds)));
      if (phase !== next) await setStatus({ phase: next, progress: 'N/A', conditions: [condition('Running', 'True', '', 'Populator is running')] });
      return this.later(R.dataVolume, dv, Math.min(doneAt, Date.now() + Math.max(1, this.ms(seconds) / 3)));
    }
    await api.patchStatus(R.pvc, namespace, name, { phase: 'Bound' });
    await setStatus({
      phase: 'Succeeded',
      progress: '100.0%',
      claimName: name,
      conditions: [condition('Bound', 'True', 'Bound', `PVC ${name} Bound`), condition('Running', 'False', 'Completed', 'Clone Complete'), condition('Ready', 'True', 'Completed', 'simulated clone completed')],
    });
  }

  /** The claim or snapshot a DataVolume clones, a `sourceRef` DataSource resolved as CDI does. */
  private async cloneSource(dv: Obj): Promise<CloneSource> {
    const api = this.options.api;
    const own = dv.metadata.namespace;
    let spec = dv.spec?.source ?? {};
    if (dv.spec?.sourceRef?.kind === 'DataSource') {
      const ref = dv.spec.sourceRef;
      const dataSource = await api.get<Obj>(R.dataSource, ref.namespace ?? own, ref.name);
      if (!dataSource) return { missing: `DataSource ${ref.name}` };
      spec = dataSource.spec?.source ?? {};
    }
    if (spec.pvc) {
      const pvc = await api.get<Obj>(R.pvc, spec.pvc.namespace ?? own, spec.pvc.name);
      return pvc ? { pvc } : { missing: `pvc ${spec.pvc.name}` };
    }
    if (spec.snapshot) {
      const snapshot = await api.get<Obj>(R.volumeSnapshot, spec.snapshot.namespace ?? own, spec.snapshot.name);
      return snapshot ? { snapshot } : { missing: `snapshot ${spec.snapshot.name}` };
    }
    return {};
  }

  /** CDI creates the DataVolume's PVC under the same name, owned by the DataVolume. */
  private async ensurePvc(dv: Obj, bytes: number): Promise<void> {
    await this.createIfAbsent({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: dv.metadata.name, namespace: dv.metadata.namespace, labels: dv.metadata.labels, ownerReferences: [ownerRef(R.dataVolume, dv)] },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: String(bytes) } },
        ...(dv.spec?.storage?.volumeMode ? { volumeMode: dv.spec.storage.volumeMode } : {}),
        ...(dv.spec?.storage?.storageClassName ? { storageClassName: dv.spec.storage.storageClassName } : {}),
      },
      // The API server starts every claim Pending until a volume is bound to it.
      status: { phase: 'Pending' },
    });
  }

  // kube-controller-manager: pvc-protection

  /** A deleted claim stays, held by its finalizer, until no pod (here: no VM instance) uses it. */
  private async releaseClaim(pvc: Obj): Promise<void> {
    const finalizers = pvc.metadata.finalizers ?? [];
    if (!pvc.metadata.deletionTimestamp || !finalizers.includes(PVC_PROTECTION_FINALIZER)) return;
    const { namespace, name } = pvc.metadata;
    const api = this.options.api;
    const { items: vmis } = await api.list<Obj>(R.vmi, namespace);
    if (vmis.some((vmi) => claimsOf(vmi).includes(name))) return;
    const releaseAt = await this.dueAt(R.pvc, pvc, DONE_AT + '-release', this.options.model.claimRelease);
    if (Date.now() < releaseAt) return this.later(R.pvc, pvc, releaseAt);
    try {
      await api.patch(R.pvc, namespace, name, { metadata: { finalizers: finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER) } });
    } catch (error) {
      // Released already (a real cluster's own pvc-protection controller is quicker than this model).
      if (!(error instanceof NotFoundError)) throw error;
    }
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

    if (dvs.some(dataVolumeError)) {
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
        status: { phase: 'Pending' },
      });
      await setVmStatus({ printableStatus: 'Starting', ready: false, created: true });
      return;
    }
    const runningAt = await this.dueAt(R.vmi, vmi, DONE_AT, this.options.model.vmStart);
    if (Date.now() < runningAt) {
      // virt-controller schedules the launcher pod (Scheduling) and hands the VMI to virt-handler once
      // the pod runs (Scheduled; pkg/virt-controller/watch/vmi/lifecycle.go); virt-handler starts the domain.
      const next = runningAt - Date.now() > this.ms(this.options.model.vmStart) / 2 ? 'Scheduling' : 'Scheduled';
      if (vmi.status?.phase !== next) await api.patchStatus(R.vmi, namespace, name, { phase: next });
      return this.later(R.vm, vm, Math.min(runningAt, Date.now() + Math.max(1, this.ms(this.options.model.vmStart) / 2)));
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
    // KubeVirt v1.8.0 pkg/storage/snapshot/snapshot.go: createContent backs up every claim volume whose
    // StorageClass has a VolumeSnapshotClass (none with the partial-snapshot fault), and
    // updateSnapshotSnapshotableVolumes lists every other volume of the VM as excluded — cloud-init too.
    const partial = this.options.faults.has('partial-snapshot');
    const contentName = `vmsnapshot-content-${snapshot.metadata.uid}`;
    const volumes: any[] = vm.spec?.template?.spec?.volumes ?? [];
    const claimVolumes = volumes.filter((v) => v.dataVolume || v.persistentVolumeClaim);
    const backups = [];
    for (const volume of partial ? [] : claimVolumes) {
      const claim = volume.dataVolume?.name ?? volume.persistentVolumeClaim.claimName;
      const pvc = await api.get<Obj>(R.pvc, namespace, claim);
      const volumeSnapshotName = `vmsnapshot-${snapshot.metadata.uid}-volume-${volume.name}`;
      backups.push({
        volumeName: volume.name,
        volumeSnapshotName,
        persistentVolumeClaim: { metadata: { name: claim }, spec: pvc?.spec ?? {} },
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
    const backedUp = new Set(backups.map((b) => b.volumeName));
    const included = volumes.map((v) => v.name as string).filter((n) => backedUp.has(n));
    const excluded = volumes.map((v) => v.name as string).filter((n) => !backedUp.has(n));
    // Lists are omitted when empty (omitempty); an offline snapshot (the VM halted) carries no indications.
    const online = Boolean(await api.get<Obj>(R.vmi, namespace, vm.metadata.name));
    await api.patchStatus(R.vmSnapshot, namespace, name, {
      phase: 'Succeeded',
      readyToUse: true,
      virtualMachineSnapshotContentName: contentName,
      creationTime: new Date().toISOString(),
      ...(online ? { indications: ['NoGuestAgent', 'Online'] } : {}),
      snapshotVolumes: { ...(included.length ? { includedVolumes: included } : {}), ...(excluded.length ? { excludedVolumes: excluded } : {}) },
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

interface CloneSource {
  pvc?: Obj;
  snapshot?: Obj;
  /** What CDI names in its CloneWithoutSource message, e.g. "pvc cks-worker-golden-v3". */
  missing?: string;
}

/**
 * The size CDI gives a DataVolume's claim (containerized-data-importer v1.64.0):
 * - a requested size goes through the storage API's rendering: Filesystem claims are inflated by the
 *   filesystem overhead (pkg/controller/datavolume/util.go renderPvcSpecVolumeSize);
 * - no size: a snapshot source gives its restoreSize (snapshot-clone-controller.go detectCloneSize),
 *   a claim source its size (pvc-clone-controller.go detectCloneSize; on Filesystem CDI measures the
 *   image's virtual size with a size-detection pod — this model takes the source claim's size);
 * - a snapshot source refuses a requested size below its restoreSize before any claim exists
 *   (snapshot-clone-controller.go validateSnapshotClone).
 */
function claimSize(dv: Obj, source: CloneSource): { bytes: number } | { invalid: string } {
  const requested = requestedSize(dv);
  const sourceBytes = sourceSize(source);
  if (requested === undefined) {
    if (source.snapshot && sourceBytes === 0) return { invalid: "size not specified by user/provisioner, can't tell how much needed for restore" };
    return { bytes: sourceBytes };
  }
  if (source.snapshot && sourceBytes > 0 && requested < sourceBytes) {
    return { invalid: `target resources requests storage size is smaller than the source ${requested} < ${sourceBytes}` };
  }
  return { bytes: dv.spec?.storage?.volumeMode === 'Block' ? requested : withFilesystemOverhead(requested) };
}

/**
 * Why CDI's clone planner refuses a claim cloned from another claim: the target claim must request
 * at least what the source claim does (pkg/controller/clone/planner.go validateSourcePVC,
 * pkg/controller/common/util.go ValidateRequestedCloneSize). A clone whose size CDI detected itself
 * is permissive and skips the check (pvc-clone-controller.go detectCloneSize).
 */
function refusal(dv: Obj, claim: Obj, source: CloneSource): string | undefined {
  if (!source.pvc || requestedSize(dv) === undefined) return undefined;
  const target = quantityBytes(String(claim.spec?.resources?.requests?.storage ?? '0'));
  const wanted = sourceSize(source);
  return target < wanted ? `target resources requests storage size is smaller than the source ${target} < ${wanted}` : undefined;
}

function requestedSize(dv: Obj): number | undefined {
  const requested = dv.spec?.storage?.resources?.requests?.storage;
  return requested === undefined ? undefined : quantityBytes(String(requested));
}

function sourceSize(source: CloneSource): number {
  if (source.snapshot) return quantityBytes(String(source.snapshot.status?.restoreSize ?? '0'));
  if (source.pvc) return quantityBytes(String(source.pvc.spec?.resources?.requests?.storage ?? '0'));
  return 0;
}

function notBound(reason: string, message: string): object {
  return { conditions: [condition('Bound', 'False', reason, message), condition('Ready', 'False', '', ''), condition('Running', 'False', '', '')] };
}

/** CDI's InflateSizeWithOverhead for Filesystem claims (pkg/util/util.go GetRequiredSpace). */
export function withFilesystemOverhead(bytes: number): number {
  return Math.ceil(Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES * (1 + FILESYSTEM_OVERHEAD));
}

/**
 * KubeVirt v1.8.0 pkg/storage/types/dv.go HasDataVolumeErrors: a Failed DataVolume, or one whose
 * importer or clone stopped with an error (CDI retries those: the VM shows DataVolumeError meanwhile).
 */
function dataVolumeError(dv: Obj | null): boolean {
  if (dv?.status?.phase === 'Failed') return true;
  return (dv?.status?.conditions ?? []).some((c: any) => c.type === 'Running' && c.status === 'False' && (c.reason === 'Error' || c.reason === 'ImagePullFailed'));
}

/** The claims a VM instance's pod mounts. */
function claimsOf(vmi: Obj): string[] {
  return (vmi.spec?.volumes ?? []).flatMap((volume: any) => [volume.dataVolume?.name, volume.persistentVolumeClaim?.claimName].filter(Boolean));
}

function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === owner.metadata.uid);
}

function hasCondition(object: Obj, type: string, reason: string, message: string): boolean {
  return (object.status?.conditions ?? []).some((c: any) => c.type === type && c.reason === reason && c.message === message);
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

/**
 * The DataVolume phases CDI v1.64 shows for a CSI-storage clone, in order (as recorded from the real
 * controllers: from a claim it snapshots the source first, from a VolumeSnapshot it restores at once).
 */
function clonePhase(fromSnapshot: boolean, progress: number): string {
  const phases = fromSnapshot
    ? ['CloneScheduled', 'CloneFromSnapshotSourceInProgress']
    : ['CloneScheduled', 'SnapshotForSmartCloneInProgress', 'CloneFromSnapshotSourceInProgress'];
  return phases[Math.min(phases.length - 1, Math.max(0, Math.floor(progress * phases.length)))]!;
}
