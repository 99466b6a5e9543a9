/**
 * Records, object by object, what cks-lab's waits read from the cluster: the VM's printable status
 * and readiness, the VMI's phase, the DataVolume's and PVC's phases, the VirtualMachineSnapshot's
 * phase, readiness and volume lists. Used to compare the simulator with the real controllers.
 */
import { Informer, type KubeObject, type ObjectApi, R, type ResourceType } from '@cks-lab/kubevirt';

type Obj = KubeObject & { spec?: any; status?: any };

const PROJECTIONS: Array<{ kind: string; type: ResourceType; project: (o: Obj) => Record<string, unknown> }> = [
  { kind: 'VirtualMachine', type: R.vm, project: (o) => ({ printableStatus: o.status?.printableStatus, ready: o.status?.ready ?? false }) },
  { kind: 'VirtualMachineInstance', type: R.vmi, project: (o) => ({ phase: o.status?.phase }) },
  { kind: 'DataVolume', type: R.dataVolume, project: (o) => ({ phase: o.status?.phase }) },
  { kind: 'PersistentVolumeClaim', type: R.pvc, project: (o) => ({ phase: o.status?.phase }) },
  {
    kind: 'VirtualMachineSnapshot',
    type: R.vmSnapshot,
    project: (o) => ({
      phase: o.status?.phase,
      readyToUse: o.status?.readyToUse ?? false,
      includedVolumes: o.status?.snapshotVolumes?.includedVolumes,
      excludedVolumes: o.status?.snapshotVolumes?.excludedVolumes,
    }),
  },
];

export interface StatusRecording {
  /** "Kind namespace/name" (session ids replaced by s1, s2… in order of appearance) -> the distinct states it went through, in order. */
  timelines: Record<string, string[]>;
}

export interface StatusRecorder {
  /** Resolves once no change has arrived for `quietMs` (watch events trail the writes), or at `deadlineMs`. */
  settled(quietMs?: number, deadlineMs?: number): Promise<void>;
  stop(): StatusRecording;
}

/** Starts watching every namespace; only cks-lab's objects in session namespaces and vm-templates are recorded. */
export function recordStatuses(api: ObjectApi): StatusRecorder {
  const timelines: Record<string, string[]> = {};
  let lastChangeAt = Date.now();
  const sessionAliases = new Map<string, string>();
  const alias = (text: string) =>
    text.replace(/(?<=user-session-)[0-9a-f]{8}/g, (id) => {
      if (!sessionAliases.has(id)) sessionAliases.set(id, `s${sessionAliases.size + 1}`);
      return sessionAliases.get(id)!;
    });
  const informers = PROJECTIONS.map(
    ({ kind, type, project }) =>
      new Informer<Obj>({
        api,
        type,
        onChange: (_all, object) => {
          const namespace = object?.metadata.namespace ?? '';
          // cks-lab's own objects (named cks-…), not the controllers' scratch claims.
          if (!object?.metadata.name.startsWith('cks-') || !(namespace.startsWith('user-session-') || namespace === 'vm-templates')) return;
          const key = `${kind} ${alias(`${namespace}/${object.metadata.name}`)}`;
          const state = JSON.stringify(project(object));
          const timeline = (timelines[key] ??= []);
          if (timeline.at(-1) !== state) timeline.push(state);
          lastChangeAt = Date.now();
        },
      }),
  );
  for (const informer of informers) informer.start();
  return {
    async settled(quietMs = 1_500, deadlineMs = 15_000) {
      const end = Date.now() + deadlineMs;
      while (Date.now() - lastChangeAt < quietMs && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    },
    stop() {
      for (const informer of informers) informer.stop();
      return { timelines };
    },
  };
}

/**
 * CDI sets a DataVolume's phase from its claim's annotations on each reconcile; a clone that finishes
 * between two reconciles goes from CloneScheduled straight to Succeeded (seen on the real
 * cdi-controller for a golden copy, in one run of three). An in-progress phase the real controllers
 * did not show in this run is left out of the comparison; every other state must match.
 */
export function withoutSkippableProgress(simulated: readonly string[], real: readonly string[]): string[] {
  return simulated.filter((state) => real.includes(state) || !/"phase":"\w+InProgress"/.test(state));
}

/** Whether `part` occurs in `whole` in order (not necessarily contiguously). */
export function isSubsequence(part: readonly string[], whole: readonly string[]): boolean {
  let i = 0;
  for (const item of whole) if (item === part[i]) i++;
  return i === part.length;
}
