import {
  ClusterFailure,
  GOLDEN_NAMESPACE,
  ROLES,
  names,
  type ClusterObjectSummary,
  type ClusterPort,
  type DiskSource,
  type GoldenDisk,
  type GoldenDiskState,
  type Preflight,
  type Role,
  type SnapshotResult,
  type VmWaitTarget,
} from '@cks-lab/core';
import {
  BOOTSTRAP_PKI_SECRET,
  bootstrapPkiFromSecret,
  bootstrapPkiSecret,
  generateBootstrapPki,
  type BootstrapPki,
} from './guest/bootstrap-pki';
import {
  cloudInitSecret,
  goldenCopyDataVolume,
  goldenDataSource,
  quantityBytes,
  sessionBaseObjects,
  userDataFor,
  virtualMachine,
  vmSnapshot,
} from './manifests';
import type { ClusterSettings } from './manifests/settings';
import { AlreadyExistsError, type KubeObject, type ObjectApi } from './object-api';
import { R, type ResourceType } from './resources';
import { waitFor, type WaitVerdict } from './wait';

type Obj = KubeObject & { spec?: any; status?: any };

const CLONE_FALLBACK_ANNOTATION = 'cdi.kubevirt.io/cloneFallbackReason';

/**
 * The cluster port over the Kubernetes API (design §4, §5): the same code runs on a real cluster
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
    for (const object of sessionBaseObjects(sessionId, this.settings)) await this.createIfAbsent(object);
  }

  async ensureVm(sessionId: string, role: Role, source: DiskSource): Promise<void> {
    // The kubeadm CA and token are shared by both bootstrap VMs and kept in the session namespace, so a resumed run reuses them.
    const pki = source.kind === 'base-image' ? await this.sessionPki(sessionId) : undefined;
    const userData = userDataFor(role, source, this.settings, pki);
    await this.createIfAbsent(cloudInitSecret(sessionId, role, userData));
    await this.createIfAbsent(virtualMachine(sessionId, role, source, this.settings));
  }

  waitVms(sessionId: string, roles: readonly Role[], target: VmWaitTarget, deadlineAt: number, signal?: AbortSignal): Promise<void> {
    const namespace = names.namespace(sessionId);
    const label = `${target} of ${roles.join(' and ')} in ${namespace}`;
    const base = { api: this.api, namespace, deadlineAt, signal, label };
    if (target === 'disk-ready') {
      const disks = roles.map((role) => names.rootDisk(role, sessionId));
      return waitFor<Obj>({ ...base, type: R.dataVolume, evaluate: (objects) => allOf(disks, objects, namespace, dataVolumeVerdict) });
    }
    const vms = roles.map((role) => names.vm(role, sessionId));
    if (target === 'running') {
      return waitFor<Obj>({
        ...base,
        type: R.vmi,
        evaluate: (objects) =>
          allOf(vms, objects, namespace, (vmi) =>
            vmi?.status?.phase === 'Running'
              ? { done: true }
              : { done: false, failure: vmi?.status?.phase === 'Failed' ? 'the VM instance failed' : undefined, waitingFor: `VMI phase ${vmi?.status?.phase ?? 'absent'}` },
          ),
      });
    }
    if (target === 'stopped') {
      return waitFor<Obj>({
        ...base,
        type: R.vmi,
        evaluate: (objects) => {
          const left = vms.filter((vm) => objects.has(`${namespace}/${vm}`));
          return left.length === 0 ? { done: true } : { done: false, waitingFor: `VMIs still present: ${left.join(', ')}` };
        },
      });
    }
    return waitFor<Obj>({
      ...base,
      type: R.vm,
      evaluate: (objects) =>
        allOf(vms, objects, namespace, (vm) => {
          if (vm?.status?.ready === true) return { done: true };
          const status = vm?.status?.printableStatus ?? 'absent';
          const failed = ['DataVolumeError', 'CrashLoopBackOff', 'ErrorUnschedulable', 'ErrImagePull'].includes(status);
          return { done: false, failure: failed ? `VM status ${status}` : undefined, waitingFor: `VM ${status}, not ready` };
        }),
    });
  }

  async setRunStrategy(sessionId: string, roles: readonly Role[], runStrategy: 'Always' | 'Halted'): Promise<void> {
    const namespace = names.namespace(sessionId);
    for (const role of roles) await this.api.patch(R.vm, namespace, names.vm(role, sessionId), { spec: { runStrategy } });
  }

  async deleteVms(sessionId: string, deadlineAt: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    const owned: Array<[ResourceType, string]> = ROLES.flatMap((role): Array<[ResourceType, string]> => [
      [R.vm, names.vm(role, sessionId)],
      [R.dataVolume, names.rootDisk(role, sessionId)],
      [R.pvc, names.rootDisk(role, sessionId)],
      [R.secret, names.cloudInit(role, sessionId)],
    ]);
    for (const [type, name] of owned) await this.api.delete(type, namespace, name);
    for (const type of [R.vm, R.vmi, R.dataVolume]) {
      await waitFor<Obj>({
        api: this.api,
        type,
        namespace,
        deadlineAt,
        label: `removal of ${type.plural} in ${namespace}`,
        evaluate: (objects) => (objects.size === 0 ? { done: true } : { done: false, waitingFor: `${[...objects.keys()].join(', ')} to go` }),
      });
    }
  }

  async deleteSession(sessionId: string, deadlineAt: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    // Namespace deletion does not reach the RoleBinding in vm-templates (design §7): remove it explicitly.
    await this.api.delete(R.roleBinding, GOLDEN_NAMESPACE, names.cloneRoleBinding(sessionId));
    await this.api.delete(R.namespace, undefined, namespace);
    await waitFor<Obj>({
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
    const [vms, vmis, dvs, pvcs] = await Promise.all(
      [R.vm, R.vmi, R.dataVolume, R.pvc].map((type) => this.api.list<Obj>(type, namespace)),
    );
    const summary = (kind: string, object: Obj, phase: string): ClusterObjectSummary => ({ kind, namespace, name: object.metadata.name, phase });
    return [
      ...(vms?.items ?? []).map((vm) => summary('VirtualMachine', vm, vm.status?.ready ? 'Ready' : (vm.status?.printableStatus ?? 'Pending'))),
      ...(vmis?.items ?? []).map((vmi) => summary('VirtualMachineInstance', vmi, vmi.status?.phase ?? 'Pending')),
      ...(dvs?.items ?? []).map((dv) => summary('DataVolume', dv, describeDataVolume(dv))),
      ...(pvcs?.items ?? []).map((pvc) => summary('PersistentVolumeClaim', pvc, pvc.status?.phase ?? 'Pending')),
    ];
  }

  async ensureVmSnapshot(sessionId: string, role: Role, version: number): Promise<void> {
    await this.createIfAbsent(vmSnapshot(sessionId, role, version));
  }

  async waitVmSnapshot(sessionId: string, role: Role, version: number, deadlineAt: number): Promise<SnapshotResult> {
    const namespace = names.namespace(sessionId);
    const name = names.goldenSnapshot(role, version);
    await waitFor<Obj>({
      api: this.api,
      type: R.vmSnapshot,
      namespace,
      deadlineAt,
      label: `VirtualMachineSnapshot ${namespace}/${name}`,
      evaluate: (objects) => {
        const status = objects.get(`${namespace}/${name}`)?.status;
        if (status?.phase === 'Failed') return { done: false, failure: status.error?.message ?? 'snapshot failed', waitingFor: '' };
        if (status?.readyToUse === true && status.phase === 'Succeeded') return { done: true };
        return { done: false, waitingFor: `snapshot phase ${status?.phase ?? 'pending'}` };
      },
    });
    // "Succeeded" can be a config-only snapshot: a disk without a VolumeSnapshotClass is silently excluded (design §4.3).
    const snapshot = await this.api.get<Obj>(R.vmSnapshot, namespace, name);
    const excluded: string[] = snapshot?.status?.snapshotVolumes?.excludedVolumes ?? [];
    if (excluded.length > 0) {
      throw new ClusterFailure(
        `snapshot ${name} excluded volume(s) ${excluded.join(', ')}: no VolumeSnapshotClass for their StorageClass (a partial, disk-less snapshot)`,
      );
    }
    const contentName = snapshot?.status?.virtualMachineSnapshotContentName;
    const content = contentName ? await this.api.get<Obj>(R.vmSnapshotContent, namespace, contentName) : null;
    const backup = (content?.spec?.volumeBackups ?? []).find((b: any) => b.volumeName === 'root');
    if (!backup?.volumeSnapshotName) throw new ClusterFailure(`snapshot ${name} has no VolumeSnapshot of the root disk`);
    const volumeSnapshot = await this.api.get<Obj>(R.volumeSnapshot, namespace, backup.volumeSnapshotName);
    const size = volumeSnapshot?.status?.restoreSize ?? backup.persistentVolumeClaim?.spec?.resources?.requests?.storage ?? this.settings.diskSize;
    return { volumeSnapshot: backup.volumeSnapshotName, sizeBytes: quantityBytes(String(size)) };
  }

  async deleteVmSnapshots(sessionId: string, version: number): Promise<void> {
    const namespace = names.namespace(sessionId);
    for (const role of ROLES) await this.api.delete(R.vmSnapshot, namespace, names.goldenSnapshot(role, version));
  }

  async ensureGoldenCopy(version: number, disk: GoldenDisk, sourceNamespace: string): Promise<void> {
    await this.createIfAbsent(goldenCopyDataVolume(version, disk, sourceNamespace, this.settings));
  }

  waitGoldenCopies(version: number, deadlineAt: number): Promise<void> {
    const copies = ROLES.map((role) => names.goldenCopy(role, version));
    return waitFor<Obj>({
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
      const existing = await this.api.get<Obj>(R.dataSource, GOLDEN_NAMESPACE, desired.metadata.name);
      if (!existing) await this.createIfAbsent(desired);
      else await this.api.patch(R.dataSource, GOLDEN_NAMESPACE, desired.metadata.name, { metadata: { labels: desired.metadata.labels }, spec: desired.spec as object });
    }
  }

  async deleteGoldenVersion(version: number): Promise<void> {
    for (const role of ROLES) {
      const copy = names.goldenCopy(role, version);
      const dataSource = await this.api.get<Obj>(R.dataSource, GOLDEN_NAMESPACE, names.goldenDataSource(role));
      if (dataSource?.spec?.source?.pvc?.name === copy) await this.api.delete(R.dataSource, GOLDEN_NAMESPACE, names.goldenDataSource(role));
      await this.api.delete(R.dataVolume, GOLDEN_NAMESPACE, copy);
      await this.api.delete(R.pvc, GOLDEN_NAMESPACE, copy);
    }
  }

  async goldenDiskStates(version: number): Promise<GoldenDiskState[]> {
    return Promise.all(
      ROLES.map(async (role) => {
        const name = names.goldenCopy(role, version);
        const dv = await this.api.get<Obj>(R.dataVolume, GOLDEN_NAMESPACE, name);
        return {
          role,
          name,
          phase: dv?.status?.phase ?? 'Missing',
          progress: dv?.status?.progress ?? null,
          cloneFallbackReason: dv?.metadata.annotations?.[CLONE_FALLBACK_ANNOTATION] ?? null,
        };
      }),
    );
  }

  private async sessionPki(sessionId: string): Promise<BootstrapPki> {
    const namespace = names.namespace(sessionId);
    const existing = await this.api.get<Obj>(R.secret, namespace, BOOTSTRAP_PKI_SECRET);
    if (existing) return bootstrapPkiFromSecret(existing);
    const pki = await generateBootstrapPki();
    try {
      await this.api.create(bootstrapPkiSecret(sessionId, pki));
      return pki;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
      const winner = await this.api.get<Obj>(R.secret, namespace, BOOTSTRAP_PKI_SECRET);
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

function allOf(names_: readonly string[], objects: ReadonlyMap<string, Obj>, namespace: string, verdict: (o: Obj | undefined) => WaitVerdict): WaitVerdict {
  const pending: string[] = [];
  for (const name of names_) {
    const result = verdict(objects.get(`${namespace}/${name}`));
    if (result.done) continue;
    if (result.failure) return { done: false, failure: `${name}: ${result.failure}`, waitingFor: name };
    pending.push(`${name} (${result.waitingFor})`);
  }
  return pending.length === 0 ? { done: true } : { done: false, waitingFor: pending.join(', ') };
}

function dataVolumeVerdict(dv: Obj | undefined): WaitVerdict {
  const phase = dv?.status?.phase;
  if (phase === 'Succeeded') return { done: true };
  if (phase === 'Failed') {
    const reason = (dv?.status?.conditions ?? []).map((c: any) => c.message).filter(Boolean).join('; ');
    return { done: false, failure: `DataVolume failed${reason ? `: ${reason}` : ''}`, waitingFor: '' };
  }
  return { done: false, waitingFor: `DataVolume ${phase ?? 'absent'}${dv?.status?.progress ? ` ${dv.status.progress}` : ''}` };
}

function describeDataVolume(dv: Obj): string {
  const phase = dv.status?.phase ?? 'Pending';
  const progress = dv.status?.progress && phase !== 'Succeeded' ? ` ${dv.status.progress}` : '';
  const fallback = dv.metadata.annotations?.[CLONE_FALLBACK_ANNOTATION];
  return `${phase}${progress}${fallback ? ` (clone fallback: ${fallback})` : ''}`;
}
