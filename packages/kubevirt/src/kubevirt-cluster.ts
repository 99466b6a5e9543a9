import {
  ClusterFailure,
  type ClusterObjectSummary,
  type ClusterPort,
  type DiskSource,
  GOLDEN_NAMESPACE,
  type GoldenDisk,
  type GoldenDiskState,
  isSessionId,
  type ManagedObjects,
  names,
  type Preflight,
  ROLES,
  type Role,
  type SnapshotResult,
  type VmWaitTarget,
} from '@cks-lab/core';
import type {
  DataSource,
  DataVolume,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  VirtualMachine,
  VirtualMachineInstance,
  VirtualMachineSnapshot,
  VirtualMachineSnapshotContent,
  VolumeSnapshot,
} from './cluster-objects';
import {
  BOOTSTRAP_PKI_SECRET,
  type BootstrapPki,
  bootstrapPkiFromSecret,
  bootstrapPkiSecret,
  generateBootstrapPki,
} from './guest/bootstrap-pki';
import { Informer } from './informer';
import {
  ANNOTATIONS,
  cloneSourceNamespaces,
  cloudInitSecret,
  goldenCopyDataVolume,
  goldenDataSource,
  LABELS,
  labelSelector,
  managedLabels,
  maxQuantity,
  quantityBytes,
  ROOT_VOLUME,
  sessionBaseObjects,
  userDataFor,
  virtualMachine,
  vmSnapshot,
} from './manifests';
import type { ClusterSettings } from './manifests/settings';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from './object-api';
import { R, type ResourceType } from './resources';
import { type WaitVerdict, waitFor } from './wait';

/** How long virt-controller may take to release a VM from a finished snapshot. */
const SNAPSHOT_RELEASE_MS = 60_000;

/**
 * The cluster port over the Kubernetes API (docs/architecture.md#cluster-facts, #provisioning): the same code runs on a real cluster
 * through client-node and on the simulator's in-memory API. Creates are idempotent (AlreadyExists
 * is success), waits are watches with deadlines.
 */
export class KubevirtCluster implements ClusterPort {
  constructor(
    private readonly api: ObjectApi,
    private readonly settings: ClusterSettings,
    readonly mode: ClusterPort['mode'],
    private readonly checkPreflight: () => Promise<Preflight>,
  ) {}

  preflight(): Promise<Preflight> {
    return this.checkPreflight();
  }

  async ensureSessionBase(sessionId: string): Promise<void> {
    // The namespace first (the session's objects live in it), then the others at once: two round trips, not one per object.
    const objects = sessionBaseObjects(sessionId, this.settings);
    const isNamespace = (object: KubeObject) => object.kind === R.namespace.kind;
    await Promise.all(objects.filter(isNamespace).map((object) => this.createIfAbsent(object)));
    await Promise.all(objects.filter((object) => !isNamespace(object)).map((object) => this.createIfAbsent(object)));
  }

  async ensureVm(sessionId: string, role: Role, source: DiskSource): Promise<void> {
    // The kubeadm CA and token are shared by both bootstrap VMs and kept in the session namespace, so a resumed run reuses them.
    const pki = source.kind === 'base-image' ? await this.sessionPki(sessionId) : undefined;
    const userData = userDataFor(role, source, this.settings, pki);
    // At once: the VM's pod only mounts the secret when it starts, after its disk has been cloned.
    await Promise.all([
      this.createIfAbsent(cloudInitSecret(sessionId, role, userData)),
      this.createIfAbsent(virtualMachine(sessionId, role, source, this.settings)),
    ]);
  }

  waitVms(sessionId: string, roles: readonly Role[], target: VmWaitTarget, deadlineAt: number, signal?: AbortSignal): Promise<void> {
    const namespace = names.namespace(sessionId);
    const label = `${target} of ${roles.join(' and ')} in ${namespace}`;
    const base = { api: this.api, namespace, deadlineAt, signal, label };
    const disks = roles.map((role) => names.rootDisk(role, sessionId));
    if (target === 'disk-ready') {
      return waitFor<DataVolume>({
        ...base,
        type: R.dataVolume,
        evaluate: (objects) => allOf(disks, objects, namespace, dataVolumeVerdict),
      });
    }
    const vms = roles.map((role) => names.vm(role, sessionId));
    if (target === 'running') {
      return waitFor<VirtualMachineInstance>({
        ...base,
        type: R.vmi,
        evaluate: (objects) =>
          allOf(vms, objects, namespace, (vmi) =>
            vmi?.status?.phase === 'Running'
              ? { done: true }
              : {
                  done: false,
                  failure: vmi?.status?.phase === 'Failed' ? 'the VM instance failed' : undefined,
                  waitingFor: `VMI phase ${vmi?.status?.phase ?? 'absent'}`,
                },
          ),
      });
    }
    if (target === 'stopped') {
      return waitFor<VirtualMachineInstance>({
        ...base,
        type: R.vmi,
        evaluate: (objects) => {
          const left = vms.filter((vm) => objects.has(`${namespace}/${vm}`));
          return left.length === 0 ? { done: true } : { done: false, waitingFor: `VMIs still present: ${left.join(', ')}` };
        },
      });
    }
    // The ready wait covers the disks' clones too (the bootstrap path waits for nothing else first), and
    // the VM's status alone cannot tell a clone CDI retries from one it never finishes.
    return failFastOnDisks(
      { ...base, disks },
      waitFor<VirtualMachine>({
        ...base,
        type: R.vm,
        evaluate: (objects) =>
          allOf(vms, objects, namespace, (vm) => {
            if (vm?.status?.ready === true) return { done: true };
            const status = vm?.status?.printableStatus ?? 'absent';
            const failure = TERMINAL_VM_STATUSES.includes(status) ? `VM status ${status}` : undefined;
            return { done: false, failure, waitingFor: `VM ${status}, not ready` };
          }),
      }),
    );
  }

  async setRunStrategy(sessionId: string, roles: readonly Role[], runStrategy: 'Always' | 'Halted'): Promise<void> {
    const namespace = names.namespace(sessionId);
    if (runStrategy === 'Always') {
      // virt-api refuses to change a VM's run state while virt-controller still marks a snapshot in
      // progress (status.snapshotInProgress), which it clears a moment after the snapshot succeeded
      // (kubevirt v1.8.0 pkg/storage/admitters/vm-storage-status.go).
      const vms = roles.map((role) => names.vm(role, sessionId));
      await waitFor<VirtualMachine>({
        api: this.api,
        type: R.vm,
        namespace,
        deadlineAt: Date.now() + SNAPSHOT_RELEASE_MS,
        label: `snapshots released by ${vms.join(' and ')}`,
        evaluate: (objects) => {
          const busy = vms.filter((vm) => objects.get(`${namespace}/${vm}`)?.status?.snapshotInProgress);
          return busy.length === 0 ? { done: true } : { done: false, waitingFor: `snapshot still in progress on ${busy.join(', ')}` };
        },
      });
    }
    for (const role of roles) await this.api.patch(R.vm, namespace, names.vm(role, sessionId), { spec: { runStrategy } });
  }

  async deleteVms(sessionId: string, deadlineAt: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    const owned: Array<[ResourceType, string]> = ROLES.flatMap(
      (role): Array<[ResourceType, string]> => [
        [R.vm, names.vm(role, sessionId)],
        [R.dataVolume, names.rootDisk(role, sessionId)],
        [R.pvc, names.rootDisk(role, sessionId)],
        [R.secret, names.cloudInit(role, sessionId)],
      ],
    );
    for (const [type, name] of owned) await this.api.delete(type, namespace, name);
    // The claims too: a claim outlives its DataVolume while a pod still uses it (its
    // kubernetes.io/pvc-protection finalizer), and CDI will not create the next attempt's claim of
    // the same name until the old one is gone.
    for (const type of [R.vm, R.vmi, R.dataVolume, R.pvc]) {
      await waitFor<KubeObject>({
        api: this.api,
        type,
        namespace,
        deadlineAt,
        label: `removal of ${type.plural} in ${namespace}`,
        evaluate: (objects) =>
          objects.size === 0
            ? { done: true }
            : { done: false, waitingFor: `${[...objects.values()].map(describeLeftover).join(', ')} to go` },
      });
    }
  }

  async deleteSession(sessionId: string, deadlineAt: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    // Namespace deletion does not reach the RoleBindings in the clone source namespaces: remove them explicitly.
    for (const source of cloneSourceNamespaces(this.settings))
      await this.api.delete(R.roleBinding, source, names.cloneRoleBinding(sessionId));
    await this.api.delete(R.namespace, undefined, namespace);
    await waitFor<Namespace>({
      api: this.api,
      type: R.namespace,
      deadlineAt,
      label: `deletion of namespace ${namespace}`,
      evaluate: (objects) =>
        objects.has(`/${namespace}`) ? { done: false, waitingFor: `namespace ${namespace} to terminate` } : { done: true },
    });
  }

  async sessionObjects(sessionId: string): Promise<ClusterObjectSummary[]> {
    const namespace = names.namespace(sessionId);
    const lists = await Promise.all(SESSION_OBJECT_TYPES.map((type) => this.api.list<SessionObject>(type, namespace)));
    return summarizeSessionObjects(namespace, lists.map((list) => list?.items ?? []) as SessionObjectLists);
  }

  /** One informer per kind; the first list is reported once all four have listed, then every change. */
  watchSessionObjects(
    sessionId: string,
    onChange: (objects: ClusterObjectSummary[]) => void,
    onError?: (error: unknown) => void,
  ): () => void {
    const namespace = names.namespace(sessionId);
    const listed = new Set<ResourceType>();
    const informers: Array<Informer<SessionObject>> = SESSION_OBJECT_TYPES.map(
      (type) =>
        new Informer<SessionObject>({
          api: this.api,
          type,
          namespace,
          onError,
          onChange: (_objects, changed) => {
            if (changed === null) listed.add(type);
            if (listed.size < SESSION_OBJECT_TYPES.length) return;
            onChange(summarizeSessionObjects(namespace, informers.map((informer) => [...informer.objects.values()]) as SessionObjectLists));
          },
        }),
    );
    for (const informer of informers) informer.start();
    return () => {
      for (const informer of informers) informer.stop();
    };
  }

  async ensureVmSnapshot(sessionId: string, role: Role, version: number): Promise<void> {
    await this.createIfAbsent(vmSnapshot(sessionId, role, version));
  }

  async waitVmSnapshot(sessionId: string, role: Role, version: number, deadlineAt: number): Promise<SnapshotResult> {
    const namespace = names.namespace(sessionId);
    const name = names.goldenSnapshot(role, version);
    await waitFor<VirtualMachineSnapshot>({
      api: this.api,
      type: R.vmSnapshot,
      namespace,
      deadlineAt,
      label: `VirtualMachineSnapshot ${namespace}/${name}`,
      evaluate: (objects) => {
        const status = objects.get(`${namespace}/${name}`)?.status;
        if (status?.phase === 'Failed') {
          // A missed failureDeadline leaves no error, only a Failure condition whose reason says so
          // (kubevirt v1.8.0 pkg/storage/snapshot/snapshot.go updateSnapshotStatus).
          const failure = (status.conditions ?? []).find((c) => c.type === 'Failure' && c.status === 'True');
          return { done: false, failure: status.error?.message ?? failure?.reason ?? 'snapshot failed', waitingFor: '' };
        }
        if (status?.readyToUse === true && status.phase === 'Succeeded') return { done: true };
        return { done: false, waitingFor: `snapshot phase ${status?.phase ?? 'pending'}` };
      },
    });
    const snapshot = await this.api.get<VirtualMachineSnapshot>(R.vmSnapshot, namespace, name);
    const contentName = snapshot?.status?.virtualMachineSnapshotContentName;
    const content = contentName ? await this.api.get<VirtualMachineSnapshotContent>(R.vmSnapshotContent, namespace, contentName) : null;
    const partial = partialSnapshotVolumes(snapshot, content);
    if (partial.length > 0) {
      throw new ClusterFailure(
        `snapshot ${name} excluded volume(s) ${partial.join(', ')}: no VolumeSnapshotClass for their StorageClass, or an unbound claim (a partial, disk-less snapshot)`,
      );
    }
    const backup = (content?.spec?.volumeBackups ?? []).find((b) => b.volumeName === ROOT_VOLUME);
    if (!backup?.volumeSnapshotName) throw new ClusterFailure(`snapshot ${name} has no VolumeSnapshot of the root disk`);
    const volumeSnapshot = await this.api.get<VolumeSnapshot>(R.volumeSnapshot, namespace, backup.volumeSnapshotName);
    const restoreSize = positiveQuantity(volumeSnapshot?.status?.restoreSize);
    const size = restoreSize ?? backup.persistentVolumeClaim?.spec?.resources?.requests?.storage ?? this.settings.diskSize;
    return { volumeSnapshot: backup.volumeSnapshotName, sizeBytes: quantityBytes(String(size)) };
  }

  async deleteVmSnapshots(sessionId: string, version: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    for (const role of ROLES) await this.api.delete(R.vmSnapshot, namespace, names.goldenSnapshot(role, version));
  }

  async ensureGoldenCopy(version: number, disk: GoldenDisk, sourceNamespace: string): Promise<void> {
    // CDI sizes the copy from the snapshot's restoreSize; a CSI driver that reports none (0) leaves
    // CDI without a size, so the copy then asks for the disk's (containerized-data-importer v1.64.0
    // pkg/controller/datavolume/snapshot-clone-controller.go validateSnapshotClone).
    const volumeSnapshot = disk.volumeSnapshot
      ? await this.api.get<VolumeSnapshot>(R.volumeSnapshot, sourceNamespace, disk.volumeSnapshot)
      : null;
    const explicitSize = positiveQuantity(volumeSnapshot?.status?.restoreSize)
      ? undefined
      : maxQuantity(this.settings.diskSize, disk.sizeBytes);
    await this.createIfAbsent(goldenCopyDataVolume(version, disk, sourceNamespace, this.settings, explicitSize));
  }

  waitGoldenCopies(version: number, deadlineAt: number): Promise<void> {
    const copies = ROLES.map((role) => names.goldenCopy(role, version));
    return waitFor<DataVolume>({
      api: this.api,
      type: R.dataVolume,
      namespace: GOLDEN_NAMESPACE,
      deadlineAt,
      label: `golden copies v${version}`,
      evaluate: (objects) => allOf(copies, objects, GOLDEN_NAMESPACE, dataVolumeVerdict),
    });
  }

  async pointGoldenDataSources(version: number): Promise<void> {
    for (const role of ROLES) {
      const desired = goldenDataSource(role, version);
      const existing = await this.api.get<DataSource>(R.dataSource, GOLDEN_NAMESPACE, desired.metadata.name);
      if (!existing) await this.createIfAbsent(desired);
      else
        await this.api.patch(R.dataSource, GOLDEN_NAMESPACE, desired.metadata.name, {
          metadata: { labels: desired.metadata.labels },
          spec: desired.spec as object,
        });
    }
  }

  async deleteGoldenVersion(version: number): Promise<void> {
    for (const role of ROLES) {
      const copy = names.goldenCopy(role, version);
      const dataSource = await this.api.get<DataSource>(R.dataSource, GOLDEN_NAMESPACE, names.goldenDataSource(role));
      if (dataSource?.spec?.source?.pvc?.name === copy) await this.api.delete(R.dataSource, GOLDEN_NAMESPACE, names.goldenDataSource(role));
      await this.api.delete(R.dataVolume, GOLDEN_NAMESPACE, copy);
      await this.api.delete(R.pvc, GOLDEN_NAMESPACE, copy);
    }
  }

  async goldenDiskStates(version: number): Promise<GoldenDiskState[]> {
    return Promise.all(
      ROLES.map(async (role) => {
        const name = names.goldenCopy(role, version);
        const [dv, pvc] = await Promise.all([
          this.api.get<DataVolume>(R.dataVolume, GOLDEN_NAMESPACE, name),
          this.api.get<PersistentVolumeClaim>(R.pvc, GOLDEN_NAMESPACE, name),
        ]);
        return {
          role,
          name,
          phase: dv?.status?.phase ?? 'Missing',
          progress: dv?.status?.progress ?? null,
          cloneFallbackReason: cloneFallbackReason(pvc),
        };
      }),
    );
  }

  async listManagedObjects(): Promise<ManagedObjects> {
    const managed = labelSelector(managedLabels());
    const [namespaces, copies] = await Promise.all([
      this.api.list<Namespace>(R.namespace, undefined, managed),
      this.api.list<DataVolume>(R.dataVolume, GOLDEN_NAMESPACE, managed),
    ]);
    const createdAt = (object: KubeObject) => Date.parse(object.metadata.creationTimestamp ?? '') || Date.now();
    const goldenVersions = new Map<number, number>();
    for (const copy of copies.items) {
      const version = Number(copy.metadata.labels?.[LABELS.goldenVersion]);
      if (!Number.isInteger(version)) continue;
      goldenVersions.set(version, Math.min(goldenVersions.get(version) ?? Infinity, createdAt(copy)));
    }
    return {
      sessions: namespaces.items.flatMap((namespace) => {
        const sessionId = namespace.metadata.labels?.[LABELS.session];
        return sessionId && isSessionId(sessionId) ? [{ sessionId, createdAt: createdAt(namespace) }] : [];
      }),
      goldenVersions: [...goldenVersions].map(([version, at]) => ({ version, createdAt: at })),
    };
  }

  private async sessionPki(sessionId: string): Promise<BootstrapPki> {
    const namespace = names.namespace(sessionId);
    const existing = await this.api.get<Secret>(R.secret, namespace, BOOTSTRAP_PKI_SECRET);
    if (existing) return bootstrapPkiFromSecret(existing);
    const pki = await generateBootstrapPki();
    try {
      await this.api.create(bootstrapPkiSecret(sessionId, pki));
      return pki;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const winner = await this.api.get<Secret>(R.secret, namespace, BOOTSTRAP_PKI_SECRET);
      if (!winner) throw error;
      return bootstrapPkiFromSecret(winner);
    }
  }

  private async createIfAbsent(object: KubeObject): Promise<void> {
    try {
      await this.api.create(object);
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
}

function allOf<T extends KubeObject>(
  names_: readonly string[],
  objects: ReadonlyMap<string, T>,
  namespace: string,
  verdict: (o: T | undefined) => WaitVerdict,
): WaitVerdict {
  const pending: string[] = [];
  for (const name of names_) {
    const result = verdict(objects.get(`${namespace}/${name}`));
    if (result.done) continue;
    if (result.failure) return { done: false, failure: `${name}: ${result.failure}`, waitingFor: name };
    pending.push(`${name} (${result.waitingFor})`);
  }
  return pending.length === 0 ? { done: true } : { done: false, waitingFor: pending.join(', ') };
}

/**
 * VM statuses that end the wait (kubevirt v1.8.0 pkg/virt-controller/watch/vm/vm.go
 * setPrintableStatus). CrashLoopBackOff: the instance failed before it ever ran and KubeVirt only
 * retries it after a growing backoff. Every other status is waited through, because KubeVirt also
 * shows it while something recovers by itself: DataVolumeError while CDI restarts an importer or
 * clone pod (pkg/storage/types/dv.go HasDataVolumeErrors counts a Running=False/Error condition),
 * ErrImagePull and ImagePullBackOff while the kubelet retries a pull, ErrorUnschedulable while the
 * scheduler waits for room. A clone that can never finish is caught on the DataVolume itself.
 */
const TERMINAL_VM_STATUSES = ['CrashLoopBackOff'];

/** Keeps the DataVolume watch that fails a VM wait early from reporting the deadline itself: it is stopped when the VM wait ends. */
const DISK_WATCH_GRACE_MS = 60_000;

/**
 * Runs `vmWait` while watching the VMs' DataVolumes: a DataVolume that can never complete (see
 * dataVolumeFailure) fails the wait at once instead of at its deadline.
 */
async function failFastOnDisks(
  watch: { api: ObjectApi; namespace: string; disks: string[]; deadlineAt: number; signal?: AbortSignal; label: string },
  vmWait: Promise<void>,
): Promise<void> {
  const stop = new AbortController();
  const forward = () => stop.abort();
  watch.signal?.addEventListener('abort', forward, { once: true });
  const diskFailure = waitFor<DataVolume>({
    api: watch.api,
    type: R.dataVolume,
    namespace: watch.namespace,
    label: watch.label,
    signal: stop.signal,
    deadlineAt: watch.deadlineAt + DISK_WATCH_GRACE_MS,
    evaluate: (objects) => {
      for (const disk of watch.disks) {
        const failure = dataVolumeFailure(objects.get(`${watch.namespace}/${disk}`));
        if (failure) return { done: false, failure: `${disk}: ${failure}`, waitingFor: disk };
      }
      return { done: false, waitingFor: 'the VM wait' };
    },
  });
  try {
    await Promise.race([vmWait, diskFailure]);
  } finally {
    watch.signal?.removeEventListener('abort', forward);
    stop.abort();
  }
}

/**
 * A DataVolume CDI will not complete by itself (containerized-data-importer v1.64.0):
 * - phase Failed;
 * - a clone CDI did not start: its source does not exist (CloneWithoutSource) or the target does not
 *   meet its validation (CloneValidationFailed), on the Bound condition, the phase unchanged
 *   (pkg/controller/datavolume/pvc-clone-controller.go, snapshot-clone-controller.go);
 * - a target claim smaller than its source claim, which the clone planner refuses on every retry
 *   (pkg/controller/clone/planner.go validateSourcePVC): the clone populator records the error and
 *   the DataVolume shows Running=False/Error with it, never Failed
 *   (clone-controller-base.go updateStatusPhaseForPopulator). Other Running=False/Error conditions
 *   are a pod CDI restarts, not an end.
 */
function dataVolumeFailure(dv: DataVolume | undefined): string | undefined {
  const conditions = dv?.status?.conditions ?? [];
  if (dv?.status?.phase === 'Failed') {
    const reason = conditions
      .map((c) => c.message)
      .filter(Boolean)
      .join('; ');
    return `DataVolume failed${reason ? `: ${reason}` : ''}`;
  }
  const bound = conditions.find((c) => c.type === 'Bound');
  if (bound?.status === 'False' && ['CloneWithoutSource', 'CloneValidationFailed'].includes(bound.reason ?? '')) {
    return `CDI does not start the clone (${bound.reason}): ${bound.message}`;
  }
  const running = conditions.find((c) => c.type === 'Running');
  if (running?.status === 'False' && running.reason === 'Error' && /storage size is smaller than the source/.test(running.message ?? '')) {
    return `CDI refuses the clone: ${running.message}`;
  }
  return undefined;
}

function dataVolumeVerdict(dv: DataVolume | undefined): WaitVerdict {
  const phase = dv?.status?.phase;
  if (phase === 'Succeeded') return { done: true };
  const failure = dataVolumeFailure(dv);
  if (failure) return { done: false, failure, waitingFor: '' };
  const running = (dv?.status?.conditions ?? []).find((c) => c.type === 'Running' && c.status === 'False' && c.reason && c.message);
  return {
    done: false,
    waitingFor: `DataVolume ${phase ?? 'absent'}${dv?.status?.progress ? ` ${dv.status.progress}` : ''}${running ? ` (${running.reason}: ${running.message})` : ''}`,
  };
}

/**
 * The claim volumes of the snapshot's VM that KubeVirt did not back up. KubeVirt lists every volume
 * it did not back up as excluded, cloud-init's too (kubevirt v1.8.0 pkg/storage/snapshot/snapshot.go
 * updateSnapshotSnapshotableVolumes): only claim volumes — the root disk always — matter. v1.8.0 has
 * no snapshot-level "partial" indication (its indications are Online, NoGuestAgent, GuestAgent,
 * QuiesceTimeout and Paused; its conditions Progressing, Ready and Failure).
 */
function partialSnapshotVolumes(snapshot: VirtualMachineSnapshot | null, content: VirtualMachineSnapshotContent | null): string[] {
  const lists = snapshot?.status?.snapshotVolumes ?? {};
  const included: string[] = lists.includedVolumes ?? [];
  const excluded: string[] = lists.excludedVolumes ?? [];
  const volumes = content?.spec?.source?.virtualMachine?.spec?.template?.spec?.volumes ?? [];
  const claimVolumes = new Set([
    ROOT_VOLUME,
    ...volumes.filter((v) => v.dataVolume || v.persistentVolumeClaim).map((v) => v.name as string),
  ]);
  return [...claimVolumes].filter((volume) => excluded.includes(volume) || !included.includes(volume));
}

/** A quantity that is present and above zero (a CSI driver may report a restoreSize of 0: unknown). */
function positiveQuantity(quantity: unknown): string | undefined {
  return quantity !== undefined && quantity !== null && quantityBytes(String(quantity)) > 0 ? String(quantity) : undefined;
}

function describeLeftover(object: KubeObject): string {
  const finalizers = object.metadata.finalizers ?? [];
  return object.metadata.deletionTimestamp
    ? `${object.metadata.name} (terminating${finalizers.length ? `, finalizers ${finalizers.join(', ')}` : ''})`
    : object.metadata.name;
}

/**
 * CDI writes why a clone fell back to a host-assisted copy on the target claim, never on the
 * DataVolume (CDI v1.64.0 pkg/controller/populators/clone-populator.go initTargetClaim).
 */
function cloneFallbackReason(claim: PersistentVolumeClaim | null | undefined): string | null {
  return claim?.metadata.annotations?.[ANNOTATIONS.cloneFallbackReason] ?? null;
}

/** The kinds a session page shows, in the order `summarizeSessionObjects` takes their lists. */
const SESSION_OBJECT_TYPES: readonly ResourceType[] = [R.vm, R.vmi, R.dataVolume, R.pvc];
/** A session's objects, listed in SESSION_OBJECT_TYPES order. */
type SessionObjectLists = [VirtualMachine[], VirtualMachineInstance[], DataVolume[], PersistentVolumeClaim[]];
type SessionObject = SessionObjectLists[number][number];

function summarizeSessionObjects(
  namespace: string,
  [vms = [], vmis = [], dvs = [], pvcs = []]: SessionObjectLists,
): ClusterObjectSummary[] {
  const summary = (kind: string, object: KubeObject, phase: string): ClusterObjectSummary => ({
    kind,
    namespace,
    name: object.metadata.name,
    phase,
  });
  return [
    ...vms.map((vm) => summary('VirtualMachine', vm, vm.status?.ready ? 'Ready' : (vm.status?.printableStatus ?? 'Pending'))),
    ...vmis.map((vmi) => summary('VirtualMachineInstance', vmi, vmi.status?.phase ?? 'Pending')),
    ...dvs.map((dv) => {
      const claim = pvcs.find((pvc) => pvc.metadata.name === dv.metadata.name);
      return summary('DataVolume', dv, describeDataVolume(dv, claim));
    }),
    ...pvcs.map((pvc) => summary('PersistentVolumeClaim', pvc, pvc.status?.phase ?? 'Pending')),
  ];
}

function describeDataVolume(dv: DataVolume, claim: PersistentVolumeClaim | undefined): string {
  const phase = dv.status?.phase ?? 'Pending';
  const progress = dv.status?.progress && phase !== 'Succeeded' ? ` ${dv.status.progress}` : '';
  const fallback = cloneFallbackReason(claim);
  return `${phase}${progress}${fallback ? ` (clone fallback: ${fallback})` : ''}`;
}
