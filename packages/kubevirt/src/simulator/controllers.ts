import { errorMessage, GOLDEN_NAMESPACE, type Logger, NotFoundError } from '@cks-lab/core';
import type {
  DataSource,
  DataVolume,
  PersistentVolumeClaim,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineSnapshot,
  VolumeSnapshot,
} from '../cluster-objects';
import { Informer } from '../informer';
import { LABELS } from '../manifests/labels';
import { quantityBytes } from '../manifests/quantity';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from '../object-api';
import { apiVersionOf, R, type ResourceType, resourceTypeOf } from '../resources';
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
  /** Reconciles in flight at once (default WORKERS). */
  workers?: number;
}

type Item = { type: ResourceType; namespace: string | undefined; name: string };

/**
 * Reconciles in flight at once: enough to overlap the API round trips of a class of sessions (a
 * serial queue let one session's modelled 200 ms become a second), bounded so that a burst does
 * not put hundreds of requests on the API server at once.
 */
const WORKERS = 16;

/** What the controllers watch and reconcile, and what they only read (CDI's clone sources, snapshot contents). */
const RECONCILED: readonly ResourceType[] = [R.vm, R.dataVolume, R.vmSnapshot, R.vmi, R.pvc];
const READ_ONLY: readonly ResourceType[] = [R.dataSource, R.volumeSnapshot, R.vmSnapshotContent];

/**
 * Plays the controllers of KubeVirt, CDI, the CSI snapshotter and kube-controller-manager's
 * pvc-protection: DataVolume clones, VM start and halt, guest boot (kubeadm or restore), VM
 * snapshots and the release of deleted claims. Level-triggered: every reconcile reads the
 * object and moves it one step; pending work is recorded as annotations, so the same controllers
 * drive the in-memory simulator and a real kube-apiserver, and survive restarts of either.
 *
 * As the real controllers do, they read from their informers' caches (listers), never GET or LIST
 * per reconcile, and a pool of workers reconciles different objects at once, one object never twice
 * at a time (client-go's workqueue).
 */
export class SimulatedControllers {
  private readonly informers = new Map<ResourceType, Informer<KubeObject>>();
  private readonly synced = new Set<ResourceType>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Due for a reconcile, none of them in flight. */
  private readonly queue = new Map<string, Item>();
  private readonly inFlight = new Set<string>();
  /** Changed while in flight: queued again once that reconcile ends. */
  private readonly dirty = new Map<string, Item>();
  /**
   * Objects as this controller's own writes returned them, until its watch has caught up: a cache
   * read must not see an object older than what the controller itself wrote, or it would write a
   * phase it has already passed again (client-go's MutationCache, tools/cache/mutation_cache.go).
   */
  private readonly written = new Map<string, KubeObject>();
  /** The uid of each object this controller deleted, until its watch has seen it go. */
  private readonly deleted = new Map<string, string>();
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {}

  start(): void {
    for (const type of [...RECONCILED, ...READ_ONLY]) {
      const informer = new Informer<KubeObject>({
        api: this.options.api,
        type,
        onChange: (objects, changed) => {
          this.forgetOwnWrites(type, objects, changed);
          if (!changed) {
            // Workers start once every cache has listed (client-go's WaitForCacheSync): a reconcile
            // must not take an object the cache has not listed yet for an absent one.
            this.synced.add(type);
            this.pump();
          }
          if (RECONCILED.includes(type)) this.onChange(type, objects, changed);
        },
        onError: (error) => this.options.logger.warn({ error: errorMessage(error) }, 'simulator watch interrupted; re-listing'),
      });
      this.informers.set(type, informer);
      informer.start();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const informer of this.informers.values()) informer.stop();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.clear();
    this.dirty.clear();
  }

  private onChange(type: ResourceType, objects: ReadonlyMap<string, KubeObject>, changed: KubeObject | null): void {
    for (const object of changed ? [changed] : objects.values()) this.enqueue(type, object.metadata.namespace, object.metadata.name);
    if (!changed) return;
    const namespace = changed.metadata.namespace;
    // A claim in use by a VM's pod is released once the instance is gone.
    if (type === R.vmi) for (const claim of claimsOf(changed as VirtualMachineInstance)) this.enqueue(R.pvc, namespace, claim);
    // CDI waits for an old claim of its DataVolume's name to go before it creates its own.
    if (type === R.pvc) this.enqueue(R.dataVolume, namespace, changed.metadata.name);
    // A VM reacts to its disks and instance, and to its sibling (the worker joins a ready control plane).
    for (const owner of changed.metadata.ownerReferences ?? []) {
      if (owner.kind === R.vm.kind) this.enqueue(R.vm, namespace, owner.name);
    }
    if (type === R.vm)
      for (const o of objects.values()) if (o.metadata.namespace === namespace) this.enqueue(type, namespace, o.metadata.name);
  }

  private ms(modelSeconds: number): number {
    return Math.round(modelSeconds * 1000 * this.options.timeScale);
  }

  private enqueue(type: ResourceType, namespace: string | undefined, name: string): void {
    if (this.stopped) return;
    const key = keyOf(type, namespace, name);
    if (this.inFlight.has(key)) this.dirty.set(key, { type, namespace, name });
    else this.queue.set(key, { type, namespace, name });
    this.pump();
  }

  /** Hands queued objects to free workers. */
  private pump(): void {
    if (this.synced.size < this.informers.size) return;
    const workers = this.options.workers ?? WORKERS;
    while (!this.stopped && this.inFlight.size < workers && this.queue.size > 0) {
      const [key, item] = this.queue.entries().next().value as [string, Item];
      this.queue.delete(key);
      this.inFlight.add(key);
      void this.process(item).finally(() => {
        this.inFlight.delete(key);
        const again = this.dirty.get(key);
        this.dirty.delete(key);
        if (again && !this.stopped) this.queue.set(key, again);
        this.pump();
      });
    }
  }

  private async process(item: Item): Promise<void> {
    const current = this.read(item.type, item.namespace, item.name);
    if (!current) return;
    try {
      await this.reconcile(item.type, current);
    } catch (error) {
      if (this.stopped) return;
      // A namespace being deleted takes its objects with it: nothing left to reconcile there.
      if (await this.namespaceGoing(item.namespace)) return;
      this.options.logger.warn(
        { object: keyOf(item.type, item.namespace, item.name), error: errorMessage(error) },
        'simulated controller retrying',
      );
      this.later(item.type, current, Date.now() + RECHECK_MS);
    }
  }

  /** Only after a failed write (not per reconcile), so a GET rather than another cache. */
  private async namespaceGoing(namespace: string | undefined): Promise<boolean> {
    if (!namespace) return false;
    const ns = await this.options.api.get(R.namespace, undefined, namespace).catch(() => undefined);
    return ns === null || Boolean(ns?.metadata.deletionTimestamp);
  }

  private reconcile(type: ResourceType, object: KubeObject): Promise<void> {
    if (type === R.dataVolume) return this.reconcileDataVolume(object as DataVolume);
    if (type === R.vm) return this.reconcileVm(object as VirtualMachine);
    if (type === R.vmSnapshot) return this.reconcileSnapshot(object as VirtualMachineSnapshot);
    if (type === R.pvc) return this.releaseClaim(object as PersistentVolumeClaim);
    return Promise.resolve();
  }

  /** Re-reconciles the object at `at` (epoch ms). */
  private later(type: ResourceType, object: KubeObject, at: number): void {
    const { namespace, name } = object.metadata;
    const key = keyOf(type, namespace, name);
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        this.enqueue(type, namespace, name);
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref?.();
    this.timers.set(key, timer);
  }

  // The caches, with this controller's own writes

  /** The object as the cache has it, or as this controller last wrote it when that is newer. */
  private read<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string | undefined, name: string): T | null {
    const key = keyOf(type, namespace, name);
    const cached = this.informers.get(type)!.objects.get(`${namespace ?? ''}/${name}`);
    const deletedUid = this.deleted.get(key);
    if (deletedUid !== undefined) {
      if (cached?.metadata.uid === deletedUid) return null;
      this.deleted.delete(key);
    }
    const own = this.written.get(key);
    if (own && cached && !newer(own, cached)) {
      this.written.delete(key);
      return cached as T;
    }
    return (own ?? cached ?? null) as T | null;
  }

  /** The objects of a type in a namespace (a lister's List). */
  private readAll<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string | undefined): T[] {
    const names = new Set<string>();
    for (const o of this.informers.get(type)!.objects.values()) if (o.metadata.namespace === namespace) names.add(o.metadata.name);
    const prefix = keyOf(type, namespace, '');
    for (const [key, o] of this.written) if (key.startsWith(prefix)) names.add(o.metadata.name);
    return [...names].map((name) => this.read<T>(type, namespace, name)).filter((o): o is T => o !== null);
  }

  /** Drops own writes the watch has caught up with, or whose objects it has seen go. */
  private forgetOwnWrites(type: ResourceType, objects: ReadonlyMap<string, KubeObject>, changed: KubeObject | null): void {
    const prefix = `${type.plural}/`;
    for (const object of changed ? [changed] : [...this.written].filter(([key]) => key.startsWith(prefix)).map(([, o]) => o)) {
      const key = keyOf(type, object.metadata.namespace, object.metadata.name);
      const cached = objects.get(`${object.metadata.namespace ?? ''}/${object.metadata.name}`);
      const own = this.written.get(key);
      if (own && (!cached || !newer(own, cached))) this.written.delete(key);
      if (!cached) this.deleted.delete(key);
    }
  }

  private async create(object: KubeObject): Promise<void> {
    try {
      this.remember(resourceTypeOf(object), await this.options.api.create(object), true);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }

  private async patch(type: ResourceType, namespace: string | undefined, name: string, patch: object): Promise<void> {
    this.remember(type, await this.options.api.patch<KubeObject>(type, namespace, name, patch), false);
  }

  private async patchStatus(type: ResourceType, namespace: string | undefined, name: string, status: object): Promise<void> {
    this.remember(type, await this.options.api.patchStatus<KubeObject>(type, namespace, name, status), false);
  }

  private async remove(type: ResourceType, object: KubeObject): Promise<void> {
    await this.options.api.delete(type, object.metadata.namespace, object.metadata.name);
    const key = keyOf(type, object.metadata.namespace, object.metadata.name);
    this.written.delete(key);
    if (object.metadata.uid) this.deleted.set(key, object.metadata.uid);
  }

  private remember(type: ResourceType, object: KubeObject, created: boolean): void {
    const { namespace, name } = object.metadata;
    const key = keyOf(type, namespace, name);
    const current = this.written.get(key);
    // A patched object neither cached nor written before is one the watch has already seen go (the
    // patch that removed its last finalizer, say): remembering it would bring it back.
    if (!created && !current && !this.informers.get(type)!.objects.has(`${namespace ?? ''}/${name}`)) return;
    if (!current || newer(object, current)) this.written.set(key, object);
  }

  /** Returns the recorded due time of the object's current operation, recording it first if absent. */
  private async dueAt(type: ResourceType, object: KubeObject, annotation: string, modelSeconds: number): Promise<number> {
    const recorded = Number(object.metadata.annotations?.[annotation]);
    if (Number.isFinite(recorded) && recorded > 0) return recorded;
    const at = Date.now() + this.ms(modelSeconds);
    await this.patch(type, object.metadata.namespace, object.metadata.name, { metadata: { annotations: { [annotation]: String(at) } } });
    return at;
  }

  // CDI: DataVolumes

  private async reconcileDataVolume(dv: DataVolume): Promise<void> {
    const phase = dv.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const { namespace, name } = dv.metadata;
    const setStatus = (status: object) => this.patchStatus(R.dataVolume, namespace, name, status);
    const fromGolden = dv.spec?.source?.pvc?.namespace === GOLDEN_NAMESPACE && namespace !== GOLDEN_NAMESPACE;
    const fromSnapshot = Boolean(dv.spec?.source?.snapshot);
    const faults = this.options.faults;

    // CDI (pkg/controller/datavolume/controller-base.go validatePVC) waits while a claim of this name is
    // being deleted or belongs to someone else, and takes it up again when that claim is gone.
    const existing = this.read<PersistentVolumeClaim>(R.pvc, namespace, name);
    if (existing && (existing.metadata.deletionTimestamp || !ownedBy(existing, dv))) return;

    // clone-fail: the golden copy is gone from under the clone, the one way a clone from it ends for
    // good on the real CDI (v1.64.0 never marks a clone DataVolume Failed: clone-controller-base.go
    // updateStatusPhaseForPopulator).
    const source = fromGolden && faults.has('clone-fail') ? { missing: `pvc ${dv.spec?.source?.pvc?.name}` } : this.cloneSource(dv);
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
    const claim = existing ?? this.read<PersistentVolumeClaim>(R.pvc, namespace, name);
    const refused = claim ? refusal(dv, claim, source) : undefined;
    if (refused) {
      // pkg/controller/clone/planner.go validateSourcePVC refuses the target claim; the clone populator
      // records the error on the claim, and the DataVolume shows it as Running=False/Error without ever
      // becoming Failed (clone-controller-base.go updateStatusPhaseForPopulator). CDI retries for ever.
      if (!hasCondition(dv, 'Running', 'Error', refused)) {
        await setStatus({
          phase: 'CloneScheduled',
          progress: 'N/A',
          conditions: [
            condition('Bound', 'False', 'Pending', `PVC ${name} Pending`),
            condition('Ready', 'False', '', ''),
            condition('Running', 'False', 'Error', refused),
          ],
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
      if (phase !== next)
        await setStatus({ phase: next, progress: 'N/A', conditions: [condition('Running', 'True', '', 'Populator is running')] });
      return this.later(R.dataVolume, dv, Math.min(doneAt, Date.now() + Math.max(1, this.ms(seconds) / 3)));
    }
    await this.patchStatus(R.pvc, namespace, name, { phase: 'Bound' });
    await setStatus({
      phase: 'Succeeded',
      progress: '100.0%',
      claimName: name,
      conditions: [
        condition('Bound', 'True', 'Bound', `PVC ${name} Bound`),
        condition('Running', 'False', 'Completed', 'Clone Complete'),
        condition('Ready', 'True', 'Completed', 'simulated clone completed'),
      ],
    });
  }

  /** The claim or snapshot a DataVolume clones, a `sourceRef` DataSource resolved as CDI does. */
  private cloneSource(dv: DataVolume): CloneSource {
    const own = dv.metadata.namespace;
    let spec = dv.spec?.source ?? {};
    if (dv.spec?.sourceRef?.kind === 'DataSource') {
      const ref = dv.spec.sourceRef;
      const dataSource = this.read<DataSource>(R.dataSource, ref.namespace ?? own, ref.name);
      if (!dataSource) return { missing: `DataSource ${ref.name}` };
      spec = dataSource.spec?.source ?? {};
    }
    if (spec.pvc) {
      const pvc = this.read<PersistentVolumeClaim>(R.pvc, spec.pvc.namespace ?? own, spec.pvc.name);
      return pvc ? { pvc } : { missing: `pvc ${spec.pvc.name}` };
    }
    if (spec.snapshot) {
      const snapshot = this.read<VolumeSnapshot>(R.volumeSnapshot, spec.snapshot.namespace ?? own, spec.snapshot.name);
      return snapshot ? { snapshot } : { missing: `snapshot ${spec.snapshot.name}` };
    }
    return {};
  }

  /** CDI creates the DataVolume's PVC under the same name, owned by the DataVolume. */
  private async ensurePvc(dv: DataVolume, bytes: number): Promise<void> {
    await this.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: dv.metadata.name,
        namespace: dv.metadata.namespace,
        labels: dv.metadata.labels,
        ownerReferences: [ownerRef(R.dataVolume, dv)],
      },
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
  private async releaseClaim(pvc: PersistentVolumeClaim): Promise<void> {
    const finalizers = pvc.metadata.finalizers ?? [];
    if (!pvc.metadata.deletionTimestamp || !finalizers.includes(PVC_PROTECTION_FINALIZER)) return;
    const { namespace, name } = pvc.metadata;
    if (this.readAll<VirtualMachineInstance>(R.vmi, namespace).some((vmi) => claimsOf(vmi).includes(name))) return;
    const releaseAt = await this.dueAt(R.pvc, pvc, `${DONE_AT}-release`, this.options.model.claimRelease);
    if (Date.now() < releaseAt) return this.later(R.pvc, pvc, releaseAt);
    try {
      await this.patch(R.pvc, namespace, name, { metadata: { finalizers: finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER) } });
    } catch (error) {
      // Released already (a real cluster's own pvc-protection controller is quicker than this model).
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  // KubeVirt: VirtualMachines and their instances

  private async reconcileVm(vm: VirtualMachine): Promise<void> {
    const { namespace, name } = vm.metadata;
    // virt-api's admission refuses a DataVolume template without a name.
    const templates = (vm.spec?.dataVolumeTemplates ?? []).map((template) => ({
      name: template.metadata?.name ?? '',
      spec: template.spec,
    }));
    for (const template of templates) {
      if (this.read(R.dataVolume, namespace, template.name)) continue;
      await this.create({
        apiVersion: apiVersionOf(R.dataVolume),
        kind: 'DataVolume',
        metadata: { name: template.name, namespace, labels: vm.metadata.labels, ownerReferences: [ownerRef(R.vm, vm)] },
        spec: template.spec,
      });
    }
    const dvs = templates.map((template) => this.read<DataVolume>(R.dataVolume, namespace, template.name));
    const vmi = this.read<VirtualMachineInstance>(R.vmi, namespace, name);
    const setVmStatus = (status: object) => this.patchStatus(R.vm, namespace, name, status);

    if (vm.spec?.runStrategy === 'Halted') {
      if (!vmi) {
        if (vm.status?.printableStatus !== 'Stopped') await setVmStatus({ printableStatus: 'Stopped', ready: false, created: false });
        return;
      }
      const haltAt = await this.dueAt(R.vmi, vmi, `${DONE_AT}-halt`, this.options.model.vmHalt);
      if (vm.status?.printableStatus !== 'Stopping') await setVmStatus({ printableStatus: 'Stopping', ready: false });
      if (Date.now() < haltAt) return this.later(R.vm, vm, haltAt);
      await this.remove(R.vmi, vmi);
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
      await this.create({
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
      if (vmi.status?.phase !== next) await this.patchStatus(R.vmi, namespace, name, { phase: next });
      return this.later(R.vm, vm, Math.min(runningAt, Date.now() + Math.max(1, this.ms(this.options.model.vmStart) / 2)));
    }
    if (vmi.status?.phase !== 'Running') {
      await this.patchStatus(R.vmi, namespace, name, { phase: 'Running' });
      await setVmStatus({ printableStatus: 'Running', ready: false });
    }
    if (vm.status?.ready) return;
    if (!this.guestMayBecomeReady(vm)) return;
    const readyAt = await this.dueAt(R.vmi, vmi, READY_AT, this.bootSeconds(vm));
    if (Date.now() < readyAt) return this.later(R.vm, vm, readyAt);
    await this.patchStatus(R.vmi, namespace, name, {
      conditions: [condition('Ready', 'True', 'GuestReady', 'simulated readiness probe succeeded')],
    });
    if (!vm.metadata.annotations?.[INITIALIZED])
      await this.patch(R.vm, namespace, name, { metadata: { annotations: { [INITIALIZED]: 'true' } } });
    await setVmStatus({ printableStatus: 'Running', ready: true });
  }

  private booted(vm: VirtualMachine): boolean {
    return Boolean(vm.metadata.labels?.[LABELS.goldenVersion] || vm.metadata.annotations?.[INITIALIZED]);
  }

  /** How long the guest takes from boot to ready: a restored cluster or a reboot, kubeadm init, or a join. */
  private bootSeconds(vm: VirtualMachine): number {
    const model = this.options.model;
    if (this.booted(vm)) return model.restoredBoot;
    return vm.metadata.labels?.[LABELS.role] === 'worker' ? model.workerJoin : model.controlPlaneBootstrap;
  }

  /** A bootstrapped worker can only join once its control plane is ready. */
  private guestMayBecomeReady(vm: VirtualMachine): boolean {
    if (this.booted(vm) || vm.metadata.labels?.[LABELS.role] !== 'worker') return true;
    return this.readAll<VirtualMachine>(R.vm, vm.metadata.namespace).some(
      (o) => o.metadata.labels?.[LABELS.role] === 'control-plane' && o.status?.ready === true,
    );
  }

  // Snapshots: VirtualMachineSnapshot, its content and the CSI VolumeSnapshots

  private async reconcileSnapshot(snapshot: VirtualMachineSnapshot): Promise<void> {
    const phase = snapshot.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const { namespace, name } = snapshot.metadata;
    const vm = this.read<VirtualMachine>(R.vm, namespace, snapshot.spec?.source?.name);
    if (!vm) {
      await this.patchStatus(R.vmSnapshot, namespace, name, {
        phase: 'Failed',
        readyToUse: false,
        error: { message: 'source VM not found' },
      });
      return;
    }
    const doneAt = await this.dueAt(R.vmSnapshot, snapshot, DONE_AT, this.options.model.vmSnapshot);
    if (Date.now() < doneAt) {
      if (phase !== 'InProgress') await this.patchStatus(R.vmSnapshot, namespace, name, { phase: 'InProgress', readyToUse: false });
      return this.later(R.vmSnapshot, snapshot, doneAt);
    }
    // KubeVirt v1.8.0 pkg/storage/snapshot/snapshot.go: createContent backs up every claim volume whose
    // StorageClass has a VolumeSnapshotClass (none with the partial-snapshot fault), and
    // updateSnapshotSnapshotableVolumes lists every other volume of the VM as excluded — cloud-init too.
    const partial = this.options.faults.has('partial-snapshot');
    const contentName = `vmsnapshot-content-${snapshot.metadata.uid}`;
    const volumes = vm.spec?.template?.spec?.volumes ?? [];
    const claimVolumes = volumes.filter((v) => v.dataVolume || v.persistentVolumeClaim);
    const backups = [];
    for (const volume of partial ? [] : claimVolumes) {
      const claim = volume.dataVolume?.name ?? volume.persistentVolumeClaim?.claimName ?? volume.name;
      const pvc = this.read<PersistentVolumeClaim>(R.pvc, namespace, claim);
      const volumeSnapshotName = `vmsnapshot-${snapshot.metadata.uid}-volume-${volume.name}`;
      backups.push({
        volumeName: volume.name,
        volumeSnapshotName,
        persistentVolumeClaim: { metadata: { name: claim }, spec: pvc?.spec ?? {} },
      });
    }
    await this.create({
      apiVersion: apiVersionOf(R.vmSnapshotContent),
      kind: 'VirtualMachineSnapshotContent',
      metadata: { name: contentName, namespace, ownerReferences: [ownerRef(R.vmSnapshot, snapshot)] },
      spec: {
        source: { virtualMachine: { metadata: { name: vm.metadata.name, namespace }, spec: vm.spec } },
        virtualMachineSnapshotName: name,
        volumeBackups: backups,
      },
    });
    const content = this.read(R.vmSnapshotContent, namespace, contentName);
    for (const backup of backups) {
      await this.create({
        apiVersion: apiVersionOf(R.volumeSnapshot),
        kind: 'VolumeSnapshot',
        metadata: { name: backup.volumeSnapshotName, namespace, ownerReferences: content ? [ownerRef(R.vmSnapshotContent, content)] : [] },
        spec: { source: { persistentVolumeClaimName: backup.persistentVolumeClaim.metadata.name } },
      });
      const size = backup.persistentVolumeClaim.spec?.resources?.requests?.storage ?? '20Gi';
      await this.patchStatus(R.volumeSnapshot, namespace, backup.volumeSnapshotName, { readyToUse: true, restoreSize: size });
    }
    const backedUp = new Set(backups.map((b) => b.volumeName));
    const included = volumes.map((v) => v.name as string).filter((n) => backedUp.has(n));
    const excluded = volumes.map((v) => v.name as string).filter((n) => !backedUp.has(n));
    // Lists are omitted when empty (omitempty); an offline snapshot (the VM halted) carries no indications.
    const online = Boolean(this.read(R.vmi, namespace, vm.metadata.name));
    await this.patchStatus(R.vmSnapshot, namespace, name, {
      phase: 'Succeeded',
      readyToUse: true,
      virtualMachineSnapshotContentName: contentName,
      creationTime: new Date().toISOString(),
      ...(online ? { indications: ['NoGuestAgent', 'Online'] } : {}),
      snapshotVolumes: {
        ...(included.length ? { includedVolumes: included } : {}),
        ...(excluded.length ? { excludedVolumes: excluded } : {}),
      },
    });
  }
}

interface CloneSource {
  pvc?: PersistentVolumeClaim;
  snapshot?: VolumeSnapshot;
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
function claimSize(dv: DataVolume, source: CloneSource): { bytes: number } | { invalid: string } {
  const requested = requestedSize(dv);
  const sourceBytes = sourceSize(source);
  if (requested === undefined) {
    if (source.snapshot && sourceBytes === 0)
      return { invalid: "size not specified by user/provisioner, can't tell how much needed for restore" };
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
function refusal(dv: DataVolume, claim: PersistentVolumeClaim, source: CloneSource): string | undefined {
  if (!source.pvc || requestedSize(dv) === undefined) return undefined;
  const target = quantityBytes(String(claim.spec?.resources?.requests?.storage ?? '0'));
  const wanted = sourceSize(source);
  return target < wanted ? `target resources requests storage size is smaller than the source ${target} < ${wanted}` : undefined;
}

function requestedSize(dv: DataVolume): number | undefined {
  const requested = dv.spec?.storage?.resources?.requests?.storage;
  return requested === undefined ? undefined : quantityBytes(String(requested));
}

function sourceSize(source: CloneSource): number {
  if (source.snapshot) return quantityBytes(String(source.snapshot.status?.restoreSize ?? '0'));
  if (source.pvc) return quantityBytes(String(source.pvc.spec?.resources?.requests?.storage ?? '0'));
  return 0;
}

function notBound(reason: string, message: string): object {
  return {
    conditions: [condition('Bound', 'False', reason, message), condition('Ready', 'False', '', ''), condition('Running', 'False', '', '')],
  };
}

/** CDI's InflateSizeWithOverhead for Filesystem claims (pkg/util/util.go GetRequiredSpace). */
export function withFilesystemOverhead(bytes: number): number {
  return Math.ceil(Math.ceil(bytes / ALIGN_BYTES) * ALIGN_BYTES * (1 + FILESYSTEM_OVERHEAD));
}

/**
 * KubeVirt v1.8.0 pkg/storage/types/dv.go HasDataVolumeErrors: a Failed DataVolume, or one whose
 * importer or clone stopped with an error (CDI retries those: the VM shows DataVolumeError meanwhile).
 */
function dataVolumeError(dv: DataVolume | null): boolean {
  if (dv?.status?.phase === 'Failed') return true;
  return (dv?.status?.conditions ?? []).some(
    (c) => c.type === 'Running' && c.status === 'False' && (c.reason === 'Error' || c.reason === 'ImagePullFailed'),
  );
}

/** The claims a VM instance's pod mounts. */
function claimsOf(vmi: VirtualMachineInstance): string[] {
  return (vmi.spec?.volumes ?? []).flatMap((volume) =>
    [volume.dataVolume?.name, volume.persistentVolumeClaim?.claimName].filter((claim): claim is string => Boolean(claim)),
  );
}

function ownedBy(object: KubeObject, owner: KubeObject): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.uid === owner.metadata.uid);
}

function hasCondition(object: DataVolume, type: string, reason: string, message: string): boolean {
  return (object.status?.conditions ?? []).some((c) => c.type === type && c.reason === reason && c.message === message);
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.plural}/${namespace ?? ''}/${name}`;
}

/**
 * Whether `a` is a later version than `b`. resourceVersions are opaque to clients, but both APIs the
 * simulator runs on issue increasing integers (etcd revisions; MemoryObjectApi's revision), which
 * client-go's own NewIntegerResourceVersionMutationCache relies on too.
 */
function newer(a: KubeObject, b: KubeObject): boolean {
  return Number(a.metadata.resourceVersion) > Number(b.metadata.resourceVersion);
}

function ownerRef(type: ResourceType, owner: KubeObject) {
  return {
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
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
