import {
  DomainError,
  errorMessage,
  GOLDEN_NAMESPACE,
  NotFoundError,
  type Preflight,
  type PreflightCheck,
  TransientError,
} from '@cks-lab/core';
import type { KubeConfig } from '@kubernetes/client-node';
import type { V1beta1CDI, V1beta1DataSource } from '@kubevirt-ui-ext/kubevirt-api/containerized-data-importer';
import type { IoK8sApiCoreV1PersistentVolumeClaim } from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import type { V1KubeVirt, V1KubeVirtConfiguration } from '@kubevirt-ui-ext/kubevirt-api/kubevirt';
import { quantityBytes } from '../manifests/quantity';
import { GOLDEN_CLONER_CLUSTER_ROLE } from '../manifests/session-base';
import type { ClusterSettings } from '../manifests/settings';
import { NotServedError } from './kube-errors';
import { KubeTransport } from './kube-transport';

type Meta = {
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
};
/** The typed package's objects leave metadata.name optional; what the API server returns always has it. */
type Read<T> = Omit<T, 'metadata'> & Meta;
/** The generator renamed spec.configuration to `_configuration` (a clash in its own code): the wire name here. */
type KubeVirt = Read<Omit<V1KubeVirt, 'spec'>> & { spec?: { configuration?: V1KubeVirtConfiguration } };
type Cdi = Read<V1beta1CDI>;
type DataSource = Read<V1beta1DataSource>;
type Pvc = Read<IoK8sApiCoreV1PersistentVolumeClaim>;
/** The typed package has no StorageProfile (cdi.kubevirt.io/v1beta1): the status fields the checks read. */
type StorageProfile = Meta & {
  status?: { claimPropertySets?: Array<{ accessModes?: string[]; volumeMode?: string }>; snapshotClass?: string };
};
/** Nor the CSI VolumeSnapshot (snapshot.storage.k8s.io/v1). */
type VolumeSnapshot = Meta & { status?: { restoreSize?: string } };
type Obj = Meta;
type StorageClass = Obj & { provisioner: string };
type SnapshotClass = Obj & { driver: string };
type ClusterRole = Obj & { rules?: Array<{ apiGroups?: string[]; resources?: string[]; verbs?: string[] }> };
type List<T = Obj> = { items: T[] };
type Outcome = { ok: boolean; detail: string };

/** What the preflight needs of the API connection: JSON GETs. KubeTransport in production, a fake in unit tests. */
export type PreflightTransport = Pick<KubeTransport, 'json' | 'server'>;

/** KubeVirt turned the Snapshot feature gate on by default in this release. */
const SNAPSHOT_DEFAULT_ON = [1, 9] as const;
/** CDI learned DataVolume `source.snapshot`, which the golden copies use, in this release. */
const CDI_SNAPSHOT_SOURCE = [1, 56] as const;
/** The operators' phase once everything they deploy is up: KubeVirt's KubeVirtPhaseDeployed, CDI's sdkapi.PhaseDeployed. */
const DEPLOYED = 'Deployed';
const DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
/** CDI's AnnDefaultVirtStorageClass: the default for VM disks, preferred to the cluster default. */
const DEFAULT_VIRT_STORAGE_CLASS = 'storageclass.kubevirt.io/is-default-virt-class';
const DEFAULT_SNAPSHOT_CLASS = 'snapshot.storage.kubernetes.io/is-default-class';
/** The CRDs CDI's isCsiCrdsDeployed requires (served at v1) before it snapshots anything. */
const SNAPSHOT_RESOURCES = ['volumesnapshots', 'volumesnapshotcontents', 'volumesnapshotclasses'];

/** The StorageClass of the VM disks, and why it is that one. */
interface ChosenStorageClass {
  storageClass: StorageClass;
  why: string;
}

/**
 * What the snapshot strategy needs from the cluster, checked in plain words: each check says what
 * it found or what is missing and how to fix it. A missing piece never throws: it makes
 * `snapshotSupported` false, naming the first one, and sessions fall back to bootstrap.
 * Only an API server that cannot be used at all (unreachable, credentials rejected) throws.
 * About fifteen GETs, so callers cache the result.
 */
export async function kubernetesPreflight(
  kc: KubeConfig,
  settings: ClusterSettings,
  transport: PreflightTransport = new KubeTransport(kc),
): Promise<Preflight> {
  const probe = new Probe(transport);
  try {
    await transport.json({ method: 'GET', path: '/version', operation: 'read the API server version' });
  } catch (error) {
    const problem = error instanceof TransientError ? 'is unreachable' : 'refuses cks-lab';
    throw new Error(`the Kubernetes API server at ${transport.server} ${problem}: ${errorMessage(error)}`, { cause: error });
  }
  const kubevirt = await probe.first<KubeVirt>('/apis/kubevirt.io/v1/kubevirts');
  const checks: PreflightCheck[] = [];
  const check = async (name: string, run: () => Promise<Outcome>) => {
    checks.push({ name, ...(await guarded(run)) });
  };
  // Read once, by the first check that needs them; a failure to read one is reported by each check that needs it.
  let chosen: Promise<ChosenStorageClass | string> | undefined;
  const storageClass = () => (chosen ??= probe.storageClass(settings.storageClassName));
  let profile: Promise<StorageProfile | null> | undefined;
  const storageProfile = (name: string) => (profile ??= probe.get<StorageProfile>(`/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${name}`));
  let snapshotClasses: Promise<SnapshotClass[]> | undefined;
  const allSnapshotClasses = () =>
    (snapshotClasses ??= probe
      .get<List<SnapshotClass>>('/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses')
      .then((list) => list?.items ?? []));
  const snapshotApiServed = () => probe.serves('snapshot.storage.k8s.io/v1', ...SNAPSHOT_RESOURCES);

  await check('KubeVirt', async () => {
    if (!(await probe.serves('kubevirt.io/v1', 'virtualmachines'))) {
      return fail('KubeVirt is not installed (the kubevirt.io/v1 API is not served): install the KubeVirt operator and a KubeVirt CR');
    }
    const kv = kubevirt.object;
    if (!kv) {
      return fail(
        `cannot tell whether KubeVirt is deployed: the KubeVirt CR could not be read (${kubevirt.problem}); virt-operator deploys KubeVirt for a KubeVirt CR, and cks-lab needs list on kubevirts.kubevirt.io`,
      );
    }
    const version = kv.status?.observedKubeVirtVersion ?? '(version not reported yet)';
    const phase = kv.status?.phase;
    if (phase !== DEPLOYED) {
      return fail(
        `KubeVirt ${version} is ${phase ? `in phase ${phase}` : 'without a phase'}, not ${DEPLOYED}: virt-operator has not finished deploying it (see status.conditions of the KubeVirt CR ${kv.metadata.namespace}/${kv.metadata.name} and the virt-operator logs)`,
      );
    }
    return pass(`KubeVirt ${version}, ${DEPLOYED}`);
  });

  await check('Snapshot feature gate', async () => {
    if (!(await probe.serves('snapshot.kubevirt.io/v1beta1', 'virtualmachinesnapshots'))) {
      return fail('KubeVirt does not serve the snapshot.kubevirt.io/v1beta1 API (VirtualMachineSnapshot): upgrade KubeVirt');
    }
    const kv = kubevirt.object;
    if (!kv)
      return fail(
        `cannot tell whether the Snapshot feature gate is on: the KubeVirt CR could not be read (${kubevirt.problem}); cks-lab needs list on kubevirts.kubevirt.io`,
      );
    const version = kv.status?.observedKubeVirtVersion;
    const config = kv.spec?.configuration?.developerConfiguration ?? {};
    const where = `the KubeVirt CR ${kv.metadata.namespace}/${kv.metadata.name}`;
    if ((config.disabledFeatureGates ?? []).includes('Snapshot')) {
      return fail(
        `the Snapshot feature gate is disabled: remove "Snapshot" from spec.configuration.developerConfiguration.disabledFeatureGates of ${where}`,
      );
    }
    if (atLeast(version, SNAPSHOT_DEFAULT_ON)) return pass(`on by default in KubeVirt ${version}`);
    if ((config.featureGates ?? []).includes('Snapshot')) return pass(`enabled in ${where}`);
    return fail(
      `the Snapshot feature gate is off in KubeVirt ${version ?? '(version not reported)'}, which turns it on by default only from v1.9: add "Snapshot" to spec.configuration.developerConfiguration.featureGates of ${where}`,
    );
  });

  await check('CDI', async () => {
    if (!(await probe.serves('cdi.kubevirt.io/v1beta1', 'datavolumes', 'datasources'))) {
      return fail(
        'CDI is not installed (the cdi.kubevirt.io/v1beta1 API with DataVolumes and DataSources is not served): install the CDI operator and a CDI CR',
      );
    }
    const cdi = await probe.first<Cdi>('/apis/cdi.kubevirt.io/v1beta1/cdis');
    if (!cdi.object) {
      return fail(
        `cannot tell whether CDI is deployed: the CDI CR could not be read (${cdi.problem}); cdi-operator deploys CDI for a CDI CR, and cks-lab needs list on cdis.cdi.kubevirt.io`,
      );
    }
    const version = cdi.object.status?.observedVersion;
    const phase = cdi.object.status?.phase;
    if (phase !== DEPLOYED) {
      return fail(
        `CDI ${version ?? '(version not reported yet)'} is ${phase ? `in phase ${phase}` : 'without a phase'}, not ${DEPLOYED}: cdi-operator has not finished deploying it (see status.conditions of the CDI CR ${cdi.object.metadata.name} and the cdi-operator logs)`,
      );
    }
    if (!version)
      return fail(
        `CDI is ${DEPLOYED} but its CR reports no status.observedVersion: cannot tell whether it is v1.56 or later, which golden images need`,
      );
    if (!atLeast(version, CDI_SNAPSHOT_SOURCE)) {
      return fail(
        `CDI ${version} cannot fill a DataVolume from a VolumeSnapshot in another namespace, which golden images need: upgrade CDI to v1.56 or later`,
      );
    }
    return pass(`CDI ${version}, ${DEPLOYED}`);
  });

  await check('StorageClass', async () => {
    const chosen = await storageClass();
    if (typeof chosen === 'string') return fail(chosen);
    return pass(`${chosen.storageClass.metadata.name} (provisioner ${chosen.storageClass.provisioner}), ${chosen.why}`);
  });

  await check('StorageProfile', async () => {
    const chosen = await storageClass();
    if (typeof chosen === 'string') return fail('no StorageClass for the VM disks (see StorageClass)');
    const name = chosen.storageClass.metadata.name;
    const profile = await storageProfile(name);
    if (!profile) {
      return fail(
        `CDI has no StorageProfile for StorageClass ${name} (CDI makes one per StorageClass: is CDI running?); without it CDI cannot fill in the access and volume modes of the VM disks' DataVolumes, which leave them to CDI`,
      );
    }
    const sets = profile.status?.claimPropertySets ?? [];
    const used = sets[0];
    if (!used?.accessModes?.length) {
      return fail(
        `StorageProfile ${name} has no claimPropertySets with access modes in its status (CDI does not know provisioner ${chosen.storageClass.provisioner}): every DataVolume with "storage:" — the VM disks and the golden copies — fails with "no accessMode specified in StorageProfile ${name}"; set spec.claimPropertySets of the StorageProfile, e.g. [{accessModes: [ReadWriteOnce], volumeMode: Block}]`,
      );
    }
    const more = sets.length > 1 ? ` (the first of ${sets.length} claimPropertySets, the one CDI uses)` : '';
    return pass(
      `DataVolumes on ${name} get accessModes ${used.accessModes.join(', ')} and volumeMode ${used.volumeMode ?? 'Filesystem'}${more}`,
    );
  });

  await check('VolumeSnapshot API and controller', async () => {
    if (!(await snapshotApiServed())) {
      return fail(
        'the VolumeSnapshot API (snapshot.storage.k8s.io/v1 VolumeSnapshot, VolumeSnapshotContent and VolumeSnapshotClass) is not served: install the external-snapshotter CRDs and the snapshot-controller',
      );
    }
    const classes = await allSnapshotClasses();
    if (classes.length === 0) {
      return fail(
        "the VolumeSnapshot CRDs are served but no VolumeSnapshotClass exists, so nothing can be snapshotted: install the snapshot-controller and your CSI driver's snapshotter, and create a VolumeSnapshotClass for the VM disks' provisioner",
      );
    }
    return pass(
      `the VolumeSnapshot CRDs are served and ${classes.length} VolumeSnapshotClass${classes.length === 1 ? '' : 'es'} exist${classes.length === 1 ? 's' : ''}; whether the snapshot-controller itself runs cannot be checked through the API (it has no API object, and cks-lab may not read its pods): if golden image builds wait at their VM snapshots, check its Deployment`,
    );
  });

  await check('VolumeSnapshotClass', async () => {
    if (!(await snapshotApiServed())) return fail('the VolumeSnapshot API is not served (see VolumeSnapshot API and controller)');
    const chosen = await storageClass();
    if (typeof chosen === 'string') return fail('no StorageClass for the VM disks (see StorageClass)');
    const { storageClass: sc } = chosen;
    return snapshotClassFor(probe, sc, await storageProfile(sc.metadata.name), await allSnapshotClasses());
  });

  await check('Multus', async () => {
    if (!(await probe.serves('k8s.cni.cncf.io/v1', 'network-attachment-definitions'))) {
      return fail(
        'Multus is not installed (no NetworkAttachmentDefinition API, k8s.cni.cncf.io/v1): install Multus; every session needs a secondary network for its fixed node addresses',
      );
    }
    return pass('NetworkAttachmentDefinitions are served');
  });

  await check('vm-templates namespace', async () => {
    const namespace = await probe.get<Obj>(`/api/v1/namespaces/${GOLDEN_NAMESPACE}`);
    if (!namespace) return fail(`namespace ${GOLDEN_NAMESPACE} does not exist: kubectl create namespace ${GOLDEN_NAMESPACE}`);
    if (namespace.metadata.deletionTimestamp)
      return fail(`namespace ${GOLDEN_NAMESPACE} is being deleted: wait for it to go, then create it again`);
    return pass('exists');
  });

  await check('golden cloner ClusterRole', async () => {
    const role = await probe.get<ClusterRole>(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${GOLDEN_CLONER_CLUSTER_ROLE}`);
    const what = `each session's RoleBinding in ${GOLDEN_NAMESPACE} grants it, so that the session's VMs may clone the golden disks`;
    if (!role) return fail(`ClusterRole ${GOLDEN_CLONER_CLUSTER_ROLE} does not exist (${what}): kubectl apply -k deploy/`);
    const grants = (role.rules ?? []).some(
      (rule) =>
        (rule.apiGroups ?? []).includes('cdi.kubevirt.io') &&
        (rule.resources ?? []).includes('datavolumes/source') &&
        (rule.verbs ?? []).includes('create'),
    );
    if (!grants) {
      return fail(
        `ClusterRole ${GOLDEN_CLONER_CLUSTER_ROLE} does not grant create on cdi.kubevirt.io datavolumes/source, which CDI checks before a clone (${what}): kubectl apply -k deploy/`,
      );
    }
    return pass(`exists and grants create on cdi.kubevirt.io datavolumes/source`);
  });

  await check('base image DataSource', async () => baseImage(probe, settings));

  const missing = checks.find((c) => !c.ok);
  return { checks, snapshotSupported: !missing, snapshotUnsupportedReason: missing ? `${missing.name}: ${missing.detail}` : null };
}

/**
 * The VolumeSnapshotClass KubeVirt's VM snapshot controller uses for a disk on `storageClass`
 * (getVolumeSnapshotClassName, pkg/storage/snapshot/snapshot.go, KubeVirt v1.8.0): the class its
 * StorageProfile names in status.snapshotClass, which must exist; else the only class whose
 * driver is the provisioner; of several, one annotated as the default, and with none annotated
 * KubeVirt refuses to pick. Without a class the disk is left out of the snapshot.
 */
async function snapshotClassFor(
  probe: Probe,
  storageClass: StorageClass,
  profile: StorageProfile | null,
  snapshotClasses: SnapshotClass[],
): Promise<Outcome> {
  const { name } = storageClass.metadata;
  const driver = storageClass.provisioner;
  const named = profile?.status?.snapshotClass;
  if (named) {
    const vsc = await probe.get<SnapshotClass>(`/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/${named}`);
    if (!vsc) {
      return fail(
        `StorageProfile ${name} names VolumeSnapshotClass ${named} (status.snapshotClass), which does not exist: KubeVirt would leave the VM disks out of their snapshots; create it, or change spec.snapshotClass of the StorageProfile`,
      );
    }
    if (vsc.driver !== driver) {
      return fail(
        `StorageProfile ${name} names VolumeSnapshotClass ${named} (status.snapshotClass), whose driver ${vsc.driver} is not ${driver}, the provisioner of StorageClass ${name}: its snapshots of the VM disks cannot be taken; name a class of driver ${driver} in spec.snapshotClass of the StorageProfile`,
      );
    }
    return pass(`StorageClass ${name} (${driver}) is snapshotted with VolumeSnapshotClass ${named}, named by its StorageProfile`);
  }
  const classes = snapshotClasses.filter((c) => c.driver === driver);
  if (classes.length === 0) {
    return fail(
      `no VolumeSnapshotClass has driver ${driver}, the provisioner of StorageClass ${name}, and its StorageProfile names none: create one (without it VM snapshots silently leave out their disks)`,
    );
  }
  if (classes.length === 1)
    return pass(`StorageClass ${name} (${driver}) is snapshotted with VolumeSnapshotClass ${classes[0]!.metadata.name}`);
  const annotated = classes.find((c) => c.metadata.annotations?.[DEFAULT_SNAPSHOT_CLASS] !== undefined);
  const listed = classes.map((c) => c.metadata.name).join(', ');
  if (!annotated) {
    return fail(
      `${classes.length} VolumeSnapshotClasses have driver ${driver} (${listed}) and none is annotated ${DEFAULT_SNAPSHOT_CLASS}: KubeVirt refuses to choose and fails the VM snapshots; annotate one, or name one in spec.snapshotClass of the StorageProfile ${name}`,
    );
  }
  return pass(
    `StorageClass ${name} (${driver}) is snapshotted with VolumeSnapshotClass ${annotated.metadata.name}, the default of ${listed}`,
  );
}

/**
 * The base image DataSource exists, CDI's DataSource controller marks it Ready (its source PVC or
 * VolumeSnapshot is there and complete: pkg/controller/datasource-controller.go, CDI v1.64.0), and
 * its source fits a VM disk: CDI refuses to clone into a smaller target (ValidateRequestedCloneSize,
 * pkg/controller/common/util.go, comparing the source PVC's storage request or the snapshot's restoreSize).
 */
async function baseImage(probe: Probe, settings: ClusterSettings): Promise<Outcome> {
  const { namespace, name } = settings.baseImage;
  const where = `DataSource ${namespace}/${name}`;
  const dataSource = await probe.get<DataSource>(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datasources/${name}`);
  if (!dataSource)
    return fail(`${where}, the base OS image sessions are bootstrapped from, does not exist: import the image with CDI and create it`);
  const ready = (dataSource.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const why = ready
      ? `Ready is ${ready.status}${ready.reason ? `, ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}`
      : 'CDI has not reported a Ready condition';
    return fail(
      `${where} is not ready (${why}): CDI marks it Ready once its source PVC or VolumeSnapshot exists and is complete; finish or repair the base image import`,
    );
  }
  // Ready: status.source is what the DataSource resolved to (spec.source may point at another DataSource).
  const resolved = dataSource.status?.source;
  const source = resolved?.pvc || resolved?.snapshot ? resolved : (dataSource.spec?.source ?? {});
  let size: string | undefined;
  let what: string;
  if (source.pvc) {
    const ns = source.pvc.namespace || namespace;
    what = `source PVC ${ns}/${source.pvc.name}`;
    const pvc = await probe.get<Pvc>(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${source.pvc.name}`);
    if (!pvc) return fail(`${where} is Ready but its ${what} does not exist: import the base image again`);
    size = pvc.spec?.resources?.requests?.storage;
  } else if (source.snapshot) {
    const ns = source.snapshot.namespace || namespace;
    what = `source VolumeSnapshot ${ns}/${source.snapshot.name}`;
    const snapshot = await probe.get<VolumeSnapshot>(
      `/apis/snapshot.storage.k8s.io/v1/namespaces/${ns}/volumesnapshots/${source.snapshot.name}`,
    );
    if (!snapshot) return fail(`${where} is Ready but its ${what} does not exist: import the base image again`);
    size = snapshot.status?.restoreSize;
  } else {
    return fail(
      `${where} is Ready but names neither a PVC nor a VolumeSnapshot as its source: point spec.source at the imported base image`,
    );
  }
  if (!size) return pass(`${where} is Ready; its ${what} does not say its size (the VM disks are ${settings.diskSize})`);
  if (quantityBytes(String(size)) > quantityBytes(settings.diskSize)) {
    return fail(
      `${where}: its ${what} is ${size}, larger than the VM disks (diskSize ${settings.diskSize}), and CDI refuses to clone into a smaller disk ("target resources requests storage size is smaller than the source"): set diskSize to at least ${size}`,
    );
  }
  return pass(`${where} is Ready; its ${what} (${size}) fits the ${settings.diskSize} VM disks`);
}

/** GETs that answer null for what is not there; memoizes the API discovery of each group version. */
class Probe {
  private readonly discovery = new Map<string, Promise<Set<string> | null>>();

  constructor(private readonly transport: PreflightTransport) {}

  async get<T>(path: string): Promise<T | null> {
    try {
      return await this.transport.json<T>({ method: 'GET', path, operation: `GET ${path}` });
    } catch (error) {
      if (error instanceof NotFoundError || error instanceof NotServedError) return null;
      throw error;
    }
  }

  /** Whether the group version serves all of these resources (plural names). */
  async serves(groupVersion: string, ...resources: string[]): Promise<boolean> {
    let served = this.discovery.get(groupVersion);
    if (!served) {
      served = this.get<{ resources: Array<{ name: string }> }>(`/apis/${groupVersion}`).then((list) =>
        list ? new Set(list.resources.map((r) => r.name)) : null,
      );
      this.discovery.set(groupVersion, served);
    }
    const names = await served;
    return Boolean(names && resources.every((r) => names.has(r)));
  }

  /** The first object of a cluster-wide list (the operator CRs: one per cluster), or why there is none. */
  async first<T extends Obj>(path: string): Promise<{ object: T | null; problem: string | null }> {
    try {
      const list = await this.get<List<T>>(path);
      const object = list?.items[0] ?? null;
      return { object, problem: object ? null : list ? 'none exists' : 'its API is not served' };
    } catch (error) {
      if (error instanceof TransientError) throw error;
      return { object: null, problem: errorMessage(error) };
    }
  }

  /**
   * The StorageClass CDI gives the VM disks' DataVolumes, which name none unless one is configured
   * (getFallbackStorageClass, pkg/controller/common/util.go, CDI v1.64.0, for the default content
   * type kubevirt): the class annotated as the default for virtualization, else the cluster's
   * default; among several so annotated, the newest, then the first by name. A string says what is wrong.
   */
  async storageClass(name: string | undefined): Promise<ChosenStorageClass | string> {
    if (name) {
      const configured = await this.get<StorageClass>(`/apis/storage.k8s.io/v1/storageclasses/${name}`);
      return configured
        ? { storageClass: configured, why: 'configured for the VM disks' }
        : `StorageClass ${name} (configured for the VM disks) does not exist`;
    }
    const classes = (await this.get<List<StorageClass>>('/apis/storage.k8s.io/v1/storageclasses'))?.items ?? [];
    const virt = newestAnnotated(classes, DEFAULT_VIRT_STORAGE_CLASS);
    if (virt)
      return {
        storageClass: virt,
        why: `the default for virtualization (${DEFAULT_VIRT_STORAGE_CLASS}), which CDI prefers to the cluster default`,
      };
    const fallback = newestAnnotated(classes, DEFAULT_STORAGE_CLASS);
    if (fallback)
      return {
        storageClass: fallback,
        why: `the cluster default (${DEFAULT_STORAGE_CLASS}); none is annotated ${DEFAULT_VIRT_STORAGE_CLASS}`,
      };
    return `no StorageClass is configured for the VM disks and none is annotated ${DEFAULT_VIRT_STORAGE_CLASS} or ${DEFAULT_STORAGE_CLASS} (no default StorageClass): mark one as the default or configure one`;
  }
}

/** CDI's GetPlatformDefaultStorageClass: of the classes annotated "true", the newest, then the first by name. */
function newestAnnotated(classes: StorageClass[], annotation: string): StorageClass | undefined {
  const created = (c: StorageClass) => Date.parse(c.metadata.creationTimestamp ?? '') || 0;
  return classes
    .filter((c) => c.metadata.annotations?.[annotation] === 'true')
    .sort((a, b) => created(b) - created(a) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))[0];
}

/** A check that cannot read what it needs (e.g. 403) fails with that reason; an unreachable server throws. */
async function guarded(run: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TransientError || !(error instanceof DomainError)) throw error;
    return fail(`could not be checked: ${errorMessage(error)}`);
  }
}

function pass(detail: string): Outcome {
  return { ok: true, detail };
}

function fail(detail: string): Outcome {
  return { ok: false, detail };
}

/** Whether a release like "v1.9.0" or "v1.60.1-rc.0" is at least major.minor. */
function atLeast(version: string | undefined, [major, minor]: readonly [number, number]): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const [got, gotMinor] = [Number(match[1]), Number(match[2])];
  return got > major || (got === major && gotMinor >= minor);
}
