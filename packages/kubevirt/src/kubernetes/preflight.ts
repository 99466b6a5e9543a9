import { DomainError, GOLDEN_NAMESPACE, NotFoundError, TransientError, errorMessage, type Preflight, type PreflightCheck } from '@cks-lab/core';
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterSettings } from '../manifests/settings';
import { NotServedError } from './kube-errors';
import { KubeTransport } from './kube-transport';

type Obj = { metadata: { name: string; namespace?: string; annotations?: Record<string, string>; deletionTimestamp?: string }; spec?: any; status?: any };
type StorageClass = Obj & { provisioner: string };
type SnapshotClass = Obj & { driver: string };
type List<T = Obj> = { items: T[] };
type Outcome = { ok: boolean; detail: string };

/** KubeVirt turned the Snapshot feature gate on by default in this release (design §4.3). */
const SNAPSHOT_DEFAULT_ON = [1, 9] as const;
/** CDI learned DataVolume `source.snapshot`, which the golden copies use, in this release (design §4.2). */
const CDI_SNAPSHOT_SOURCE = [1, 56] as const;
const DEFAULT_STORAGE_CLASS = 'storageclass.kubernetes.io/is-default-class';
const DEFAULT_SNAPSHOT_CLASS = 'snapshot.storage.kubernetes.io/is-default-class';

/**
 * What the snapshot strategy needs from the cluster, checked in plain words (design §4, issue 4):
 * each check says what it found or what is missing and how to fix it. A missing piece never throws:
 * it makes `snapshotSupported` false, naming the first one, and sessions fall back to bootstrap.
 * Only an API server that cannot be used at all (unreachable, credentials rejected) throws.
 * About a dozen GETs, so callers cache the result.
 */
export async function kubernetesPreflight(kc: KubeConfig, settings: ClusterSettings, transport = new KubeTransport(kc)): Promise<Preflight> {
  const probe = new Probe(transport);
  try {
    await transport.json({ method: 'GET', path: '/version', operation: 'read the API server version' });
  } catch (error) {
    const problem = error instanceof TransientError ? 'is unreachable' : 'refuses cks-lab';
    throw new Error(`the Kubernetes API server at ${transport.server} ${problem}: ${errorMessage(error)}`, { cause: error });
  }
  const kubevirt = await probe.first('/apis/kubevirt.io/v1/kubevirts');
  const checks: PreflightCheck[] = [];
  const check = async (name: string, run: () => Promise<Outcome>) => {
    checks.push({ name, ...(await guarded(run)) });
  };

  await check('KubeVirt', async () => {
    if (!(await probe.serves('kubevirt.io/v1', 'virtualmachines'))) {
      return fail('KubeVirt is not installed (the kubevirt.io/v1 API is not served): install the KubeVirt operator and a KubeVirt CR');
    }
    if (!kubevirt.object) return pass(`installed; its version is unknown (the KubeVirt CR could not be read: ${kubevirt.problem})`);
    return pass(`KubeVirt ${kubevirt.object.status?.observedKubeVirtVersion ?? '(version not reported yet)'}`);
  });

  await check('Snapshot feature gate', async () => {
    if (!(await probe.serves('snapshot.kubevirt.io/v1beta1', 'virtualmachinesnapshots'))) {
      return fail('KubeVirt does not serve the snapshot.kubevirt.io/v1beta1 API (VirtualMachineSnapshot): upgrade KubeVirt');
    }
    const kv = kubevirt.object;
    if (!kv) return fail(`cannot tell whether the Snapshot feature gate is on: the KubeVirt CR could not be read (${kubevirt.problem}); cks-lab needs list on kubevirts.kubevirt.io`);
    const version = kv.status?.observedKubeVirtVersion as string | undefined;
    const config = kv.spec?.configuration?.developerConfiguration ?? {};
    const where = `the KubeVirt CR ${kv.metadata.namespace}/${kv.metadata.name}`;
    if ((config.disabledFeatureGates ?? []).includes('Snapshot')) {
      return fail(`the Snapshot feature gate is disabled: remove "Snapshot" from spec.configuration.developerConfiguration.disabledFeatureGates of ${where}`);
    }
    if (atLeast(version, SNAPSHOT_DEFAULT_ON)) return pass(`on by default in KubeVirt ${version}`);
    if ((config.featureGates ?? []).includes('Snapshot')) return pass(`enabled in ${where}`);
    return fail(
      `the Snapshot feature gate is off in KubeVirt ${version ?? '(version not reported)'}, which turns it on by default only from v1.9: add "Snapshot" to spec.configuration.developerConfiguration.featureGates of ${where}`,
    );
  });

  await check('CDI', async () => {
    if (!(await probe.serves('cdi.kubevirt.io/v1beta1', 'datavolumes', 'datasources'))) {
      return fail('CDI is not installed (the cdi.kubevirt.io/v1beta1 API with DataVolumes and DataSources is not served): install the CDI operator and a CDI CR');
    }
    const cdi = await probe.first('/apis/cdi.kubevirt.io/v1beta1/cdis');
    const version = cdi.object?.status?.observedVersion as string | undefined;
    if (!version) return pass(`installed; its version is unknown (${cdi.problem ?? 'the CDI CR reports none'})`);
    if (!atLeast(version, CDI_SNAPSHOT_SOURCE)) {
      return fail(`CDI ${version} cannot fill a DataVolume from a VolumeSnapshot in another namespace, which golden images need: upgrade CDI to v1.56 or later`);
    }
    return pass(`CDI ${version}`);
  });

  await check('VolumeSnapshot API and class', async () => {
    if (!(await probe.serves('snapshot.storage.k8s.io/v1', 'volumesnapshots', 'volumesnapshotclasses'))) {
      return fail('the VolumeSnapshot API (snapshot.storage.k8s.io/v1) is not served: install the external-snapshotter CRDs and the snapshot-controller');
    }
    const storageClass = await probe.storageClass(settings.storageClassName);
    if (typeof storageClass === 'string') return fail(storageClass);
    const driver = storageClass.provisioner;
    const snapshotClasses = await probe.get<List<SnapshotClass>>('/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses');
    const classes = (snapshotClasses?.items ?? []).filter((c) => c.driver === driver);
    const chosen = classes.find((c) => c.metadata.annotations?.[DEFAULT_SNAPSHOT_CLASS] === 'true') ?? classes[0];
    if (!chosen) {
      return fail(
        `no VolumeSnapshotClass has driver ${driver}, the provisioner of StorageClass ${storageClass.metadata.name}: create one for it (without it VM snapshots silently leave out their disks)`,
      );
    }
    return pass(`StorageClass ${storageClass.metadata.name} (${driver}) is snapshotted with VolumeSnapshotClass ${chosen.metadata.name}`);
  });

  await check('Multus', async () => {
    if (!(await probe.serves('k8s.cni.cncf.io/v1', 'network-attachment-definitions'))) {
      return fail('Multus is not installed (no NetworkAttachmentDefinition API, k8s.cni.cncf.io/v1): install Multus; every session needs a secondary network for its fixed node addresses');
    }
    return pass('NetworkAttachmentDefinitions are served');
  });

  await check('vm-templates namespace', async () => {
    const namespace = await probe.get<Obj>(`/api/v1/namespaces/${GOLDEN_NAMESPACE}`);
    if (!namespace) return fail(`namespace ${GOLDEN_NAMESPACE} does not exist: kubectl create namespace ${GOLDEN_NAMESPACE}`);
    if (namespace.metadata.deletionTimestamp) return fail(`namespace ${GOLDEN_NAMESPACE} is being deleted: wait for it to go, then create it again`);
    return pass('exists');
  });

  await check('base image DataSource', async () => {
    const { namespace, name } = settings.baseImage;
    const dataSource = await probe.get<Obj>(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datasources/${name}`);
    if (!dataSource) return fail(`DataSource ${namespace}/${name}, the base OS image sessions are bootstrapped from, does not exist: import the image with CDI and create it`);
    return pass(`DataSource ${namespace}/${name} exists`);
  });

  const missing = checks.find((c) => !c.ok);
  return { checks, snapshotSupported: !missing, snapshotUnsupportedReason: missing ? `${missing.name}: ${missing.detail}` : null };
}

/** GETs that answer null for what is not there; memoizes the API discovery of each group version. */
class Probe {
  private readonly discovery = new Map<string, Promise<Set<string> | null>>();

  constructor(private readonly transport: KubeTransport) {}

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
      served = this.get<{ resources: Array<{ name: string }> }>(`/apis/${groupVersion}`).then((list) => (list ? new Set(list.resources.map((r) => r.name)) : null));
      this.discovery.set(groupVersion, served);
    }
    const names = await served;
    return Boolean(names && resources.every((r) => names.has(r)));
  }

  /** The first object of a cluster-wide list (the operator CRs: one per cluster), or why there is none. */
  async first(path: string): Promise<{ object: Obj | null; problem: string | null }> {
    try {
      const list = await this.get<List>(path);
      const object = list?.items[0] ?? null;
      return { object, problem: object ? null : list ? 'none exists' : 'its API is not served' };
    } catch (error) {
      if (error instanceof TransientError) throw error;
      return { object: null, problem: errorMessage(error) };
    }
  }

  /** The configured StorageClass, else the cluster's default one; a string says what is wrong. */
  async storageClass(name: string | undefined): Promise<StorageClass | string> {
    if (name) {
      return (await this.get<StorageClass>(`/apis/storage.k8s.io/v1/storageclasses/${name}`)) ?? `StorageClass ${name} (configured for the VM disks) does not exist`;
    }
    const list = await this.get<List<StorageClass>>('/apis/storage.k8s.io/v1/storageclasses');
    const fallback = list?.items.find((c) => c.metadata.annotations?.[DEFAULT_STORAGE_CLASS] === 'true');
    return fallback ?? 'no StorageClass is configured for the VM disks and the cluster has no default StorageClass: mark one as default or configure one';
  }
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
