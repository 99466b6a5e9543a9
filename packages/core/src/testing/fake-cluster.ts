import { ClusterFailure, DeadlineError, errorMessage, TransientError } from '../errors';
import { DEFAULT_LATENCY_MODEL } from '../latency-model';
import { dnsLabel, GOLDEN_NAMESPACE, names } from '../naming';
import type { ClusterPort, DiskSource, ManagedObjects, SnapshotResult, VmWaitTarget } from '../ports';
import { type ClusterObjectSummary, type GoldenDisk, type GoldenDiskState, type Preflight, ROLES, type Role } from '../types';

/** Durations (ms) the fake cluster takes; defaults are the simulator's modelled latencies. */
export interface FakeDelays {
  /** Latency of every API call (create, patch, delete request). */
  api: number;
  /** CDI clone of a golden disk into a session. */
  cloneGoldenDisk: number;
  /** Clone of the base OS image (bootstrap). */
  cloneBaseDisk: number;
  /** VM start to VMI Running (after its disk is ready). */
  vmStart: number;
  /** Restored (or restarted) guest boot to cluster ready. */
  restoredBoot: number;
  /** Control plane: cloud-init + packages + kubeadm init + CNI. */
  controlPlaneBootstrap: number;
  /** Worker: boot + join + Ready (after the control plane is ready). */
  workerJoin: number;
  haltVm: number;
  vmSnapshot: number;
  goldenCopy: number;
  /** Until a session's VMs, disks and secrets are gone. */
  deleteVms: number;
  /** Until a session namespace (and its RoleBinding in vm-templates) is gone. */
  deleteSession: number;
}

const seconds = (s: number) => s * 1000;
const model = DEFAULT_LATENCY_MODEL;

export const MODELLED_DELAYS: FakeDelays = {
  api: 0,
  cloneGoldenDisk: seconds(model.goldenSmartClone),
  cloneBaseDisk: seconds(model.baseImageClone),
  vmStart: seconds(model.vmStart),
  restoredBoot: seconds(model.restoredBoot),
  controlPlaneBootstrap: seconds(model.controlPlaneBootstrap),
  workerJoin: seconds(model.workerJoin),
  haltVm: seconds(model.vmHalt),
  vmSnapshot: seconds(model.vmSnapshot),
  goldenCopy: seconds(model.goldenCopy),
  // Not in the model: deletions the fake finishes quickly.
  deleteVms: 3_000,
  deleteSession: 10_000,
};

export const GOLDEN_DISK_BYTES = 20 * 1024 ** 3;

export type FakeOp = Exclude<keyof ClusterPort, 'mode'>;

/** One call to the fake, as the orchestrator made it. */
export interface FakeCall {
  op: FakeOp;
  args: readonly unknown[];
  at: number;
  endedAt: number | null;
  /** Message of the error the call ended with, if any. */
  error: string | null;
}

/** A Kubernetes object the fake holds. `sessionId`/`goldenVersion` say whom it belongs to. */
export interface FakeObject {
  kind: string;
  /** '' for cluster-scoped objects (Namespace). */
  namespace: string;
  name: string;
  sessionId: string | null;
  goldenVersion: number | null;
}

export interface FakeVmView {
  role: Role;
  source: DiskSource;
  runStrategy: 'Always' | 'Halted';
  createdAt: number;
}

/** The clock the fake needs: a Clock whose sleep may also take an AbortSignal (TestClock's does). */
export interface FakeClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface FakeClusterOptions {
  delays?: Partial<FakeDelays>;
  snapshotSupported?: boolean;
  failClone?: boolean;
  stuckClone?: boolean;
  partialSnapshot?: boolean;
  failBootstrap?: boolean;
  transientFailures?: number;
}

interface VmState {
  role: Role;
  source: DiskSource;
  createdAt: number;
  runStrategy: 'Always' | 'Halted';
  /** When runStrategy last changed (creation counts). */
  since: number;
  /** Started again after a halt: kubeadm is done, the guest only boots. */
  restarted: boolean;
}

interface SnapshotState {
  sessionId: string;
  role: Role;
  version: number;
  createdAt: number;
  partial: boolean;
  volumeSnapshot: string;
}

interface CopyState {
  version: number;
  role: Role;
  pvc: string;
  createdAt: number;
  failure: string | null;
  deletedAt: number | null;
}

const never = () => new Promise<never>(() => {});
const key = (o: Pick<FakeObject, 'kind' | 'namespace' | 'name'>) => `${o.kind}/${o.namespace}/${o.name}`;

/**
 * An in-memory KubeVirt cluster ('simulated' mode) for unit tests of core.
 *
 * It keeps the objects the orchestrator makes (by kind, namespace and name, each owned by a
 * session or a golden version) so tests can assert nothing leaks, plays the controllers with
 * `delays`, records every call, and injects the faults the simulator can: failed or stuck clones,
 * partial snapshots, failed bootstrap, transient API errors, and a "crash" (`freezeWhen`: the call
 * never returns). Every wait honours its deadline (DeadlineError) and AbortSignal.
 *
 * State is computed from timestamps at the moment it is observed, so knobs flipped mid-test take
 * effect at the next observation.
 */
export class FakeCluster implements ClusterPort {
  readonly mode = 'simulated' as const;
  delays: FakeDelays;
  snapshotSupported: boolean;
  snapshotUnsupportedReason = 'no VolumeSnapshotClass matches the storage class of the VM disks';
  /** Waits on golden-sourced session disks report the clone failed. */
  failClone: boolean;
  /** Golden-sourced session disks never finish cloning: only the deadline ends the wait. */
  stuckClone: boolean;
  /** VM snapshots (taken from now on) exclude their volumes: waitVmSnapshot reports ClusterFailure. */
  partialSnapshot: boolean;
  /** A bootstrapped control plane never becomes ready: kubeadm init fails. */
  failBootstrap: boolean;
  /** The next N calls (of `transientOps`, or any op) throw TransientError. */
  transientFailures: number;
  transientOps: ReadonlySet<FakeOp> | null = null;
  /** A call this returns true for never returns (the process "died" in it); nothing of it happens. */
  freezeWhen: ((call: FakeCall) => boolean) | null = null;
  /** A call this returns a promise for waits for it before doing anything (tests release it later). */
  holdWhen: ((call: FakeCall) => Promise<void> | null) | null = null;
  /** A call this returns an error for throws it before doing anything. */
  failWhen: ((call: FakeCall) => Error | null) | null = null;

  readonly calls: FakeCall[] = [];
  /** Keys (kind/namespace/name) of objects in creation order: a key twice means deleted and made again. */
  readonly created: string[] = [];
  /** Every version the golden DataSources were pointed at, in order. */
  readonly dataSourceHistory: number[] = [];

  private readonly objects = new Map<string, FakeObject>();
  /** When each present object was created (its creationTimestamp). */
  private readonly createdAt = new Map<string, number>();
  private readonly vms = new Map<string, VmState>();
  private readonly snapshots = new Map<string, SnapshotState>();
  private readonly copies = new Map<string, CopyState>();
  private dataSourceVersion: number | null = null;

  constructor(
    private readonly clock: FakeClock,
    options: FakeClusterOptions = {},
  ) {
    this.delays = { ...MODELLED_DELAYS, ...options.delays };
    this.snapshotSupported = options.snapshotSupported ?? true;
    this.failClone = options.failClone ?? false;
    this.stuckClone = options.stuckClone ?? false;
    this.partialSnapshot = options.partialSnapshot ?? false;
    this.failBootstrap = options.failBootstrap ?? false;
    this.transientFailures = options.transientFailures ?? 0;
  }

  // Views for assertions

  /** Every object of a session: its namespace, everything in it, and its RoleBinding in vm-templates. */
  objectsOf(sessionId: string): FakeObject[] {
    return this.sorted([...this.objects.values()].filter((o) => o.sessionId === sessionId));
  }

  /** Objects in vm-templates that belong to the golden image (copies and DataSources). */
  goldenObjects(): FakeObject[] {
    return this.sorted([...this.objects.values()].filter((o) => o.namespace === GOLDEN_NAMESPACE && o.sessionId === null));
  }

  /** Versions that still have disks (copies) in vm-templates. */
  goldenVersions(): number[] {
    return [...new Set([...this.copies.values()].filter((c) => c.deletedAt === null).map((c) => c.version))].sort((a, b) => a - b);
  }

  /** Sessions that have any object in the cluster. */
  sessionIds(): string[] {
    return [...new Set([...this.objects.values()].flatMap((o) => (o.sessionId ? [o.sessionId] : [])))].sort();
  }

  allObjects(): FakeObject[] {
    return this.sorted([...this.objects.values()]);
  }

  /** The version both golden DataSources point at (they always move together). */
  dataSourceTarget(): number | null {
    return this.dataSourceVersion;
  }

  vm(sessionId: string, role: Role): FakeVmView | null {
    const vm = this.vms.get(`${sessionId}/${role}`);
    return vm ? { role: vm.role, source: { ...vm.source }, runStrategy: vm.runStrategy, createdAt: vm.createdAt } : null;
  }

  callsOf(op: FakeOp): FakeCall[] {
    return this.calls.filter((c) => c.op === op);
  }

  /** Keys created more than once (deleted and re-created, e.g. by a step that was wrongly repeated). */
  recreated(): string[] {
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const k of this.created) (seen.has(k) ? twice : seen).add(k);
    return [...twice].sort();
  }

  /** Test set-up: a golden version whose copies are done (and, unless `point: false`, which the DataSources point at). */
  seedGoldenVersion(version: number, options: { point?: boolean } = {}): GoldenDisk[] {
    const createdAt = this.clock.now() - this.delays.goldenCopy;
    const disks = ROLES.map((role) => {
      const pvc = names.goldenCopy(role, version);
      this.copies.set(pvc, { version, role, pvc, createdAt, failure: null, deletedAt: null });
      this.put({ kind: 'DataVolume', namespace: GOLDEN_NAMESPACE, name: pvc, sessionId: null, goldenVersion: version });
      return { role, volumeSnapshot: null, pvc, sizeBytes: GOLDEN_DISK_BYTES };
    });
    if (options.point ?? true) this.pointDataSources(version);
    return disks;
  }

  // ClusterPort

  async preflight(): Promise<Preflight> {
    return this.call('preflight', [], async () => ({
      checks: [
        { name: 'KubeVirt', ok: true, detail: 'simulated' },
        { name: 'CDI', ok: true, detail: 'simulated' },
        {
          name: 'Snapshot',
          ok: this.snapshotSupported,
          detail: this.snapshotSupported ? 'VolumeSnapshotClass present' : this.snapshotUnsupportedReason,
        },
      ],
      snapshotSupported: this.snapshotSupported,
      snapshotUnsupportedReason: this.snapshotSupported ? null : this.snapshotUnsupportedReason,
    }));
  }

  async ensureSessionBase(sessionId: string): Promise<void> {
    return this.call('ensureSessionBase', [sessionId], async () => {
      const namespace = names.namespace(sessionId);
      const own = { sessionId, goldenVersion: null };
      this.put({ kind: 'Namespace', namespace: '', name: namespace, ...own });
      this.put({ kind: 'NetworkAttachmentDefinition', namespace, name: names.network(), ...own });
      this.put({ kind: 'NetworkPolicy', namespace, name: names.networkPolicy(), ...own });
      this.put({ kind: 'Service', namespace, name: names.apiService(), ...own });
      this.put({ kind: 'RoleBinding', namespace: GOLDEN_NAMESPACE, name: names.cloneRoleBinding(sessionId), ...own });
    });
  }

  async ensureVm(sessionId: string, role: Role, source: DiskSource): Promise<void> {
    return this.call('ensureVm', [sessionId, role, source], async () => {
      const namespace = this.requireNamespace(sessionId);
      const own = { sessionId, goldenVersion: null };
      const id = `${sessionId}/${role}`;
      if (!this.vms.has(id)) {
        const now = this.clock.now();
        this.vms.set(id, { role, source: { ...source }, createdAt: now, runStrategy: 'Always', since: now, restarted: false });
      }
      this.put({ kind: 'Secret', namespace, name: names.cloudInit(role, sessionId), ...own });
      this.put({ kind: 'DataVolume', namespace, name: names.rootDisk(role, sessionId), ...own });
      this.put({ kind: 'VirtualMachine', namespace, name: names.vm(role, sessionId), ...own });
    });
  }

  async waitVms(sessionId: string, roles: readonly Role[], target: VmWaitTarget, deadlineAt: number, signal?: AbortSignal): Promise<void> {
    return this.call('waitVms', [sessionId, [...roles], target, deadlineAt], () =>
      this.waitUntil(`VMs ${roles.join(', ')} of session ${sessionId} ${target}`, deadlineAt, signal, () =>
        Math.max(...roles.map((role) => this.reachedAt(sessionId, role, target))),
      ),
    );
  }

  async setRunStrategy(sessionId: string, roles: readonly Role[], runStrategy: 'Always' | 'Halted'): Promise<void> {
    return this.call('setRunStrategy', [sessionId, [...roles], runStrategy], async () => {
      for (const role of roles) {
        const vm = this.requireVm(sessionId, role);
        if (vm.runStrategy === runStrategy) continue;
        vm.runStrategy = runStrategy;
        vm.since = this.clock.now();
        if (runStrategy === 'Always') vm.restarted = true;
      }
    });
  }

  async deleteVms(sessionId: string, deadlineAt: number): Promise<void> {
    return this.call('deleteVms', [sessionId, deadlineAt], async () => {
      await this.takes(this.delays.deleteVms, deadlineAt, `deleting the VMs of session ${sessionId}`);
      for (const role of ROLES) {
        this.vms.delete(`${sessionId}/${role}`);
        const namespace = names.namespace(sessionId);
        this.remove({ kind: 'VirtualMachine', namespace, name: names.vm(role, sessionId) });
        this.remove({ kind: 'DataVolume', namespace, name: names.rootDisk(role, sessionId) });
        this.remove({ kind: 'Secret', namespace, name: names.cloudInit(role, sessionId) });
      }
    });
  }

  async deleteSession(sessionId: string, deadlineAt: number): Promise<void> {
    return this.call('deleteSession', [sessionId, deadlineAt], async () => {
      await this.takes(this.delays.deleteSession, deadlineAt, `deleting namespace ${names.namespace(sessionId)}`);
      for (const role of ROLES) this.vms.delete(`${sessionId}/${role}`);
      for (const [k, snap] of this.snapshots) if (snap.sessionId === sessionId) this.snapshots.delete(k);
      for (const [k, object] of this.objects) if (object.sessionId === sessionId) this.objects.delete(k);
    });
  }

  async sessionObjects(sessionId: string): Promise<ClusterObjectSummary[]> {
    return this.call('sessionObjects', [sessionId], async () =>
      this.objectsOf(sessionId).map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name, phase: this.phaseOf(o) })),
    );
  }

  /** The fake's phases follow its clock, so its watch looks at them every virtual second and reports changes. */
  watchSessionObjects(sessionId: string, onChange: (objects: ClusterObjectSummary[]) => void): () => void {
    const stop = new AbortController();
    void (async () => {
      let last = '';
      while (!stop.signal.aborted) {
        const objects = this.objectsOf(sessionId).map((o) => ({
          kind: o.kind,
          namespace: o.namespace,
          name: o.name,
          phase: this.phaseOf(o),
        }));
        const seen = JSON.stringify(objects);
        if (seen !== last) {
          last = seen;
          onChange(objects);
        }
        await this.clock.sleep(1000, stop.signal).catch(() => undefined);
      }
    })();
    return () => stop.abort();
  }

  async ensureVmSnapshot(sessionId: string, role: Role, version: number): Promise<void> {
    return this.call('ensureVmSnapshot', [sessionId, role, version], async () => {
      const namespace = this.requireNamespace(sessionId);
      this.requireVm(sessionId, role);
      const name = names.goldenSnapshot(role, version);
      const id = `${sessionId}/${role}/${version}`;
      if (!this.snapshots.has(id)) {
        const volumeSnapshot = dnsLabel(`${name}-rootdisk`);
        const partial = this.partialSnapshot;
        this.snapshots.set(id, { sessionId, role, version, createdAt: this.clock.now(), partial, volumeSnapshot });
        // A partial snapshot silently excludes the volume: no VolumeSnapshot is made for it.
        if (!partial) this.put({ kind: 'VolumeSnapshot', namespace, name: volumeSnapshot, sessionId, goldenVersion: version });
      }
      this.put({ kind: 'VirtualMachineSnapshot', namespace, name, sessionId, goldenVersion: version });
    });
  }

  async waitVmSnapshot(sessionId: string, role: Role, version: number, deadlineAt: number): Promise<SnapshotResult> {
    return this.call('waitVmSnapshot', [sessionId, role, version, deadlineAt], async () => {
      const name = `${names.namespace(sessionId)}/${names.goldenSnapshot(role, version)}`;
      const state = () => {
        const snap = this.snapshots.get(`${sessionId}/${role}/${version}`);
        if (!snap) throw new ClusterFailure(`VirtualMachineSnapshot ${name} does not exist`);
        return snap;
      };
      await this.waitUntil(
        `VirtualMachineSnapshot ${name} readyToUse`,
        deadlineAt,
        undefined,
        () => state().createdAt + this.delays.vmSnapshot,
      );
      const snap = state();
      if (snap.partial) {
        throw new ClusterFailure(
          `VirtualMachineSnapshot ${name} succeeded without its disk: excluded volumes [rootdisk] (no VolumeSnapshotClass for its storage class)`,
        );
      }
      return { volumeSnapshot: snap.volumeSnapshot, sizeBytes: GOLDEN_DISK_BYTES };
    });
  }

  async deleteVmSnapshots(sessionId: string, version: number): Promise<void> {
    return this.call('deleteVmSnapshots', [sessionId, version], async () => {
      const namespace = names.namespace(sessionId);
      for (const role of ROLES) {
        const snap = this.snapshots.get(`${sessionId}/${role}/${version}`);
        this.snapshots.delete(`${sessionId}/${role}/${version}`);
        this.remove({ kind: 'VirtualMachineSnapshot', namespace, name: names.goldenSnapshot(role, version) });
        if (snap) this.remove({ kind: 'VolumeSnapshot', namespace, name: snap.volumeSnapshot });
      }
    });
  }

  async ensureGoldenCopy(version: number, disk: GoldenDisk, sourceNamespace: string): Promise<void> {
    return this.call('ensureGoldenCopy', [version, { ...disk }, sourceNamespace], async () => {
      const existing = this.copies.get(disk.pvc);
      if (!existing || existing.deletedAt !== null) {
        const source =
          disk.volumeSnapshot && this.objects.get(key({ kind: 'VolumeSnapshot', namespace: sourceNamespace, name: disk.volumeSnapshot }));
        const failure = source
          ? null
          : `DataVolume ${GOLDEN_NAMESPACE}/${disk.pvc}: source VolumeSnapshot ${sourceNamespace}/${disk.volumeSnapshot ?? '(none)'} not found`;
        this.copies.set(disk.pvc, { version, role: disk.role, pvc: disk.pvc, createdAt: this.clock.now(), failure, deletedAt: null });
      }
      this.put({ kind: 'DataVolume', namespace: GOLDEN_NAMESPACE, name: disk.pvc, sessionId: null, goldenVersion: version });
    });
  }

  async waitGoldenCopies(version: number, deadlineAt: number): Promise<void> {
    return this.call('waitGoldenCopies', [version, deadlineAt], () =>
      this.waitUntil(`golden copies of v${version}`, deadlineAt, undefined, () => {
        const copies = this.liveCopies(version);
        if (copies.length < ROLES.length)
          throw new ClusterFailure(`golden image v${version} has ${copies.length} of ${ROLES.length} copies`);
        for (const c of copies) if (c.failure) throw new ClusterFailure(c.failure);
        return Math.max(...copies.map((c) => c.createdAt + this.delays.goldenCopy));
      }),
    );
  }

  async pointGoldenDataSources(version: number): Promise<void> {
    return this.call('pointGoldenDataSources', [version], async () => {
      const copies = this.liveCopies(version);
      const now = this.clock.now();
      if (copies.length < ROLES.length || copies.some((c) => c.failure || c.createdAt + this.delays.goldenCopy > now)) {
        throw new ClusterFailure(`golden image v${version}: both copies must be ready before the DataSources move`);
      }
      this.pointDataSources(version);
    });
  }

  async deleteGoldenVersion(version: number): Promise<void> {
    return this.call('deleteGoldenVersion', [version], async () => {
      for (const c of this.liveCopies(version)) {
        c.deletedAt = this.clock.now();
        this.remove({ kind: 'DataVolume', namespace: GOLDEN_NAMESPACE, name: c.pvc });
      }
      if (this.dataSourceVersion === version) {
        this.dataSourceVersion = null;
        for (const role of ROLES) this.remove({ kind: 'DataSource', namespace: GOLDEN_NAMESPACE, name: names.goldenDataSource(role) });
      }
    });
  }

  async goldenDiskStates(version: number): Promise<GoldenDiskState[]> {
    return this.call('goldenDiskStates', [version], async () => {
      const now = this.clock.now();
      return ROLES.flatMap((role) => {
        const c = this.liveCopies(version).find((copy) => copy.role === role);
        if (!c) return [];
        const done = c.createdAt + this.delays.goldenCopy;
        const percent = this.delays.goldenCopy > 0 ? Math.min(100, ((now - c.createdAt) / this.delays.goldenCopy) * 100) : 100;
        const phase = c.failure ? 'Failed' : now >= done ? 'Succeeded' : 'SnapshotForSmartCloneInProgress';
        return [{ role, name: c.pvc, phase, progress: `${percent.toFixed(1)}%`, cloneFallbackReason: null }];
      });
    });
  }

  async listManagedObjects(): Promise<ManagedObjects> {
    return this.call('listManagedObjects', [], async () => {
      const present = [...this.objects.entries()].map(([k, object]) => ({ object, at: this.createdAt.get(k) ?? this.clock.now() }));
      const versions = new Map<number, number>();
      for (const { object, at } of present) {
        if (object.kind === 'DataVolume' && object.namespace === GOLDEN_NAMESPACE && object.goldenVersion !== null) {
          versions.set(object.goldenVersion, Math.min(versions.get(object.goldenVersion) ?? Infinity, at));
        }
      }
      return {
        sessions: present.flatMap(({ object, at }) =>
          object.kind === 'Namespace' && object.sessionId ? [{ sessionId: object.sessionId, createdAt: at }] : [],
        ),
        goldenVersions: [...versions].map(([version, at]) => ({ version, createdAt: at })),
      };
    });
  }

  // Internals

  private async call<T>(op: FakeOp, args: readonly unknown[], body: () => Promise<T>): Promise<T> {
    const call: FakeCall = { op, args, at: this.clock.now(), endedAt: null, error: null };
    this.calls.push(call);
    try {
      if (this.freezeWhen?.(call)) await never();
      const hold = this.holdWhen?.(call);
      if (hold) await hold;
      if (this.transientFailures > 0 && (!this.transientOps || this.transientOps.has(op))) {
        this.transientFailures--;
        throw new TransientError(`${op}: HTTP 503 from the API server (simulated)`);
      }
      const injected = this.failWhen?.(call);
      if (injected) throw injected;
      if (this.delays.api > 0) await this.clock.sleep(this.delays.api);
      return await body();
    } catch (error) {
      call.error = errorMessage(error);
      throw error;
    } finally {
      call.endedAt = this.clock.now();
    }
  }

  /** The time `role`'s VM reaches `target` (Infinity: never); throws ClusterFailure for a failure the cluster shows. */
  private reachedAt(sessionId: string, role: Role, target: VmWaitTarget): number {
    const vm = this.requireVm(sessionId, role);
    if (target === 'stopped') return vm.runStrategy === 'Halted' ? vm.since + this.delays.haltVm : Infinity;
    const diskReady = this.diskReadyAt(sessionId, vm);
    if (target === 'disk-ready') return diskReady;
    if (vm.runStrategy === 'Halted') return Infinity;
    const running = Math.max(diskReady, vm.since) + this.delays.vmStart;
    if (target === 'running') return running;
    if (vm.source.kind === 'golden' || vm.restarted) return running + this.delays.restoredBoot;
    if (role === 'control-plane') {
      const ready = running + this.delays.controlPlaneBootstrap;
      if (this.failBootstrap && this.clock.now() >= ready) {
        throw new ClusterFailure(`${names.vm(role, sessionId)}: kubeadm init failed (simulated)`);
      }
      return ready;
    }
    const controlPlane = this.vms.get(`${sessionId}/control-plane`);
    const controlPlaneReady = controlPlane ? this.reachedAt(sessionId, 'control-plane', 'ready') : Infinity;
    return Math.max(running, controlPlaneReady) + this.delays.workerJoin;
  }

  private diskReadyAt(sessionId: string, vm: VmState): number {
    const disk = `${names.namespace(sessionId)}/${names.rootDisk(vm.role, sessionId)}`;
    if (vm.source.kind === 'base-image') return vm.createdAt + this.delays.cloneBaseDisk;
    const { pvc } = vm.source;
    if (this.failClone) throw new ClusterFailure(`DataVolume ${disk}: clone from ${GOLDEN_NAMESPACE}/${pvc} failed (simulated)`);
    const source = this.copies.get(pvc);
    if (!source || source.createdAt > vm.createdAt || (source.deletedAt !== null && source.deletedAt <= vm.createdAt)) {
      throw new ClusterFailure(`DataVolume ${disk}: source PVC ${GOLDEN_NAMESPACE}/${pvc} not found`);
    }
    if (source.failure) throw new ClusterFailure(`DataVolume ${disk}: source PVC ${GOLDEN_NAMESPACE}/${pvc} failed`);
    if (this.stuckClone) return Infinity;
    const ready = Math.max(vm.createdAt, source.createdAt + this.delays.goldenCopy) + this.delays.cloneGoldenDisk;
    if (source.deletedAt !== null && source.deletedAt < ready) {
      throw new ClusterFailure(`DataVolume ${disk}: source PVC ${GOLDEN_NAMESPACE}/${pvc} was deleted during the clone`);
    }
    return ready;
  }

  private async waitUntil(what: string, deadlineAt: number, signal: AbortSignal | undefined, reachedAt: () => number): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const at = reachedAt();
      const now = this.clock.now();
      if (at <= now) return;
      if (now >= deadlineAt) throw new DeadlineError(`${what}: deadline passed`);
      await this.pause(Math.min(at, deadlineAt) - now, signal);
    }
  }

  /** An operation that takes `ms`, bounded by a deadline. */
  private async takes(ms: number, deadlineAt: number, what: string): Promise<void> {
    const now = this.clock.now();
    if (now + ms > deadlineAt) {
      await this.pause(Math.max(0, deadlineAt - now));
      throw new DeadlineError(`${what}: deadline passed`);
    }
    if (ms > 0) await this.pause(ms);
  }

  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    if (!signal) return this.clock.sleep(ms);
    signal.throwIfAborted();
    let onAbort = () => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([this.clock.sleep(ms, signal), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private requireNamespace(sessionId: string): string {
    const namespace = names.namespace(sessionId);
    if (!this.objects.has(key({ kind: 'Namespace', namespace: '', name: namespace }))) {
      throw new ClusterFailure(`namespaces "${namespace}" not found`);
    }
    return namespace;
  }

  private requireVm(sessionId: string, role: Role): VmState {
    const vm = this.vms.get(`${sessionId}/${role}`);
    if (!vm) throw new ClusterFailure(`VirtualMachine ${names.namespace(sessionId)}/${names.vm(role, sessionId)} not found`);
    return vm;
  }

  private liveCopies(version: number): CopyState[] {
    return [...this.copies.values()].filter((c) => c.version === version && c.deletedAt === null);
  }

  private pointDataSources(version: number): void {
    this.dataSourceVersion = version;
    this.dataSourceHistory.push(version);
    for (const role of ROLES) {
      this.put({
        kind: 'DataSource',
        namespace: GOLDEN_NAMESPACE,
        name: names.goldenDataSource(role),
        sessionId: null,
        goldenVersion: null,
      });
    }
  }

  private put(object: FakeObject): void {
    dnsLabel(object.name);
    const k = key(object);
    if (this.objects.has(k)) return;
    this.objects.set(k, object);
    this.createdAt.set(k, this.clock.now());
    this.created.push(k);
  }

  private remove(object: Pick<FakeObject, 'kind' | 'namespace' | 'name'>): void {
    this.objects.delete(key(object));
  }

  private phaseOf(object: FakeObject): string {
    if (object.kind === 'Namespace') return 'Active';
    if (object.kind !== 'VirtualMachine' && object.kind !== 'DataVolume') return 'Present';
    const sessionId = object.sessionId;
    const role = ROLES.find((r) => sessionId && object.name.startsWith(names.vm(r, sessionId)));
    if (!sessionId || !role || !this.vms.has(`${sessionId}/${role}`)) return 'Unknown';
    const now = this.clock.now();
    try {
      if (object.kind === 'DataVolume') return this.reachedAt(sessionId, role, 'disk-ready') <= now ? 'Succeeded' : 'CloneInProgress';
      if (this.vms.get(`${sessionId}/${role}`)?.runStrategy === 'Halted') {
        return this.reachedAt(sessionId, role, 'stopped') <= now ? 'Stopped' : 'Stopping';
      }
      if (this.reachedAt(sessionId, role, 'ready') <= now) return 'Ready';
      return this.reachedAt(sessionId, role, 'running') <= now ? 'Running' : 'Provisioning';
    } catch {
      return 'Failed';
    }
  }

  private sorted(objects: FakeObject[]): FakeObject[] {
    return objects.map((o) => ({ ...o })).sort((a, b) => key(a).localeCompare(key(b)));
  }
}
