/**
 * The CSI driver of the test cluster, with the two sidecars that turn its calls into API objects,
 * reduced to what they write to the API server:
 *  - external-provisioner: a PV for every Pending PVC that kube-controller-manager's PV controller
 *    handed to this driver (annotation volume.kubernetes.io/storage-provisioner), with the checks
 *    external-provisioner makes before it calls CreateVolume (pkg/controller/controller.go of
 *    kubernetes-csi/external-provisioner v6: getPVCSource, getSnapshotSource), and the delete of
 *    Released PVs whose reclaim policy is Delete (sig-storage-lib-external-provisioner shouldDelete);
 *  - external-snapshotter's sidecar: status of the VolumeSnapshotContents of this driver, and their
 *    cleanup on deletion (pkg/sidecar-controller/snapshot_controller.go of external-snapshotter v8).
 * The "storage" behind it has no data: a volume is its handle and size, a snapshot its handle and
 * restore size (the source volume's size, what a CSI CreateSnapshot returns as size_bytes).
 *
 * It decides nothing the control planes decide: binding is kube-controller-manager's PV controller,
 * VolumeSnapshot status is snapshot-controller's, and what is cloned how is CDI's. Claims whose data
 * source is a populator's (CDI's VolumeCloneSource etc.) are left to that populator, as
 * external-provisioner does; the populator's own claims ("prime" PVCs) are provisioned like any other.
 *
 * Not played: the external-provisioner's transient `provisioner.storage.kubernetes.io/cloning-protection`
 * and `snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection` finalizers (added and
 * removed around one CreateVolume, which is instantaneous here), topology, secrets, and
 * pre-provisioned snapshot contents (`spec.source.snapshotHandle`).
 */
import { randomUUID } from 'node:crypto';
import { quantityBytes } from '@cks-lab/kubevirt';
import type { TestCluster } from '../cluster';
import { expectOk, type ReconcileLoop, reconcileLoop } from './reconcile-loop';

export const CSI_DRIVER = 'csi.cks-lab.test';
export const CSI_STORAGE_CLASS = 'cks-lab-test-csi';
export const CSI_SNAPSHOT_CLASS = 'cks-lab-test-csi-snapshot';

const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** sig-storage-lib-external-provisioner controller.go finalizerPV (HonorPVReclaimPolicy, on by default since Kubernetes 1.31). */
const PV_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';
/** external-provisioner controller.go provisionerIDKey. */
const PROVISIONER_ID_KEY = 'storage.kubernetes.io/csiProvisionerIdentity';
/** external-snapshotter pkg/utils/util.go */
const ANN_SNAPSHOT_BEING_CREATED = 'snapshot.storage.kubernetes.io/volumesnapshot-being-created';
const ANN_SNAPSHOT_BEING_DELETED = 'snapshot.storage.kubernetes.io/volumesnapshot-being-deleted';
const CONTENT_FINALIZER = 'snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection';

/** external-provisioner's --retry-interval-start / --retry-interval-max defaults. */
const RETRY_START_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;

export interface CsiDriverOptions {
  /** Re-list interval of the sidecars' loops. Default 250 ms. */
  intervalMs?: number;
  /** Mark the StorageClass as the cluster default (storageclass.kubernetes.io/is-default-class). Default false. */
  defaultClass?: boolean;
}

export interface CsiDriverStandIn {
  readonly driver: string;
  readonly storageClass: string;
  readonly snapshotClass: string;
  /**
   * Makes CreateVolume fail, as a storage backend that cannot serve the data would, for volumes whose
   * data comes from a claim `refuse` matches (directly, or through a snapshot of it); null stops it.
   * external-provisioner keeps retrying with its backoff, so CDI's clone never completes.
   */
  failVolumesFrom(refuse: ((claimName: string) => boolean) | null): void;
  /** Errors of the loops' last passes, for diagnostics. */
  lastErrors(): string[];
  stop(): Promise<void>;
}

interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
}

interface TypedRef {
  apiGroup?: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface Pvc {
  metadata: ObjectMeta;
  spec: {
    accessModes?: string[];
    resources?: { requests?: { storage?: string } };
    storageClassName?: string;
    volumeMode?: string;
    volumeName?: string;
    selector?: unknown;
    dataSource?: TypedRef;
    dataSourceRef?: TypedRef;
  };
  status?: { phase?: string; capacity?: { storage?: string } };
}

interface Pv {
  metadata: ObjectMeta;
  spec: {
    capacity?: { storage?: string };
    csi?: { driver: string; volumeHandle: string };
    claimRef?: { namespace?: string; name?: string; uid?: string };
    persistentVolumeReclaimPolicy?: string;
    volumeMode?: string;
  };
  status?: { phase?: string };
}

interface SnapshotContent {
  metadata: ObjectMeta;
  spec: {
    driver: string;
    deletionPolicy: string;
    volumeSnapshotClassName?: string;
    volumeSnapshotRef: { uid?: string };
    source: { volumeHandle?: string; snapshotHandle?: string };
  };
  status?: { snapshotHandle?: string; readyToUse?: boolean; restoreSize?: number; creationTime?: number; error?: { message?: string } };
}

export async function startCsiDriver(cluster: TestCluster, opts: CsiDriverOptions = {}): Promise<CsiDriverStandIn> {
  const intervalMs = opts.intervalMs ?? 250;
  // external-provisioner's identity: <start time in ms>-<random>-<driver> (controller.go, used in volume attributes).
  const identity = `${Date.now()}-${Math.floor(Math.random() * 10_000)}-${CSI_DRIVER}`;
  const events = new EventRecorder(cluster);
  const provisionerSource = { component: `${CSI_DRIVER}_cks-lab-test-node_${identity.split('-')[1]}` };
  const snapshotterSource = { component: `csi-snapshotter ${CSI_DRIVER}` };

  // The objects a CSI driver's installation ships: CDI decides CSI clones and populators from the
  // CSIDriver object of a StorageClass's provisioner (pkg/controller/datavolume/util.go
  // storageClassCSIDriverExists, pkg/controller/clone/common.go GetCommonDriver).
  await expectOk(
    cluster.request('POST', '/apis/storage.k8s.io/v1/csidrivers', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSIDriver',
      metadata: { name: CSI_DRIVER },
      spec: { attachRequired: false, podInfoOnMount: false, volumeLifecycleModes: ['Persistent'], fsGroupPolicy: 'File' },
    }),
    `create CSIDriver ${CSI_DRIVER}`,
    [409],
  );
  await expectOk(
    cluster.request('POST', '/apis/storage.k8s.io/v1/storageclasses', {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: {
        name: CSI_STORAGE_CLASS,
        ...(opts.defaultClass ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}),
      },
      provisioner: CSI_DRIVER,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'Immediate',
      allowVolumeExpansion: true,
    }),
    `create StorageClass ${CSI_STORAGE_CLASS}`,
    [409],
  );
  await expectOk(
    cluster.request('POST', '/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses', {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotClass',
      metadata: { name: CSI_SNAPSHOT_CLASS, annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
      driver: CSI_DRIVER,
      deletionPolicy: 'Delete',
    }),
    `create VolumeSnapshotClass ${CSI_SNAPSHOT_CLASS}`,
    [409],
  );

  // ---------------------------------------------------------------------------------------------
  // external-provisioner
  // ---------------------------------------------------------------------------------------------
  const retries = new Map<string, { attempts: number; nextAt: number }>();
  let refuseDataOf: ((claimName: string) => boolean) | null = null;
  const populatorNoticed = new Set<string>();

  const provisionClaim = async (pvc: Pvc): Promise<void> => {
    const ann = pvc.metadata.annotations ?? {};
    const provisioner = ann[ANN_STORAGE_PROVISIONER] ?? ann[ANN_BETA_STORAGE_PROVISIONER];
    if (provisioner !== CSI_DRIVER || pvc.status?.phase !== 'Pending' || pvc.spec.volumeName || pvc.metadata.deletionTimestamp) return;
    const pvName = `pvc-${pvc.metadata.uid}`;
    // Already provisioned: the PV controller has not bound the claim yet.
    if ((await cluster.request('GET', `/api/v1/persistentvolumes/${pvName}`)).ok) return;
    const retry = retries.get(pvc.metadata.uid);
    if (retry && Date.now() < retry.nextAt) return;

    const claimKey = `${pvc.metadata.namespace}/${pvc.metadata.name}`;
    const provisioning = (message: string) =>
      events.record(pvc, 'PersistentVolumeClaim', 'Normal', 'Provisioning', message, provisionerSource);
    const source = dataSourceOf(pvc);
    if (source && !isCoreSource(source)) {
      // prepareProvision: "Assuming an external populator will provision the volume" (IgnoredError).
      if (!populatorNoticed.has(pvc.metadata.uid)) {
        populatorNoticed.add(pvc.metadata.uid);
        await provisioning(`External provisioner is provisioning volume for claim "${claimKey}"`);
        await provisioning('Assuming an external populator will provision the volume');
      }
      return;
    }
    await provisioning(`External provisioner is provisioning volume for claim "${claimKey}"`);
    try {
      const pv = await createVolume(pvc, pvName, source);
      const created = await cluster.request('POST', '/api/v1/persistentvolumes', pv);
      if (!created.ok && created.status !== 409) throw new Error(`creating PV ${pvName}: ${created.status} ${created.text.slice(0, 300)}`);
      retries.delete(pvc.metadata.uid);
      await events.record(
        pvc,
        'PersistentVolumeClaim',
        'Normal',
        'ProvisioningSucceeded',
        `Successfully provisioned volume ${pvName}`,
        provisionerSource,
      );
    } catch (e) {
      const attempts = (retry?.attempts ?? 0) + 1;
      retries.set(pvc.metadata.uid, { attempts, nextAt: Date.now() + Math.min(RETRY_MAX_MS, RETRY_START_MS * 2 ** (attempts - 1)) });
      await events.record(pvc, 'PersistentVolumeClaim', 'Warning', 'ProvisioningFailed', (e as Error).message, provisionerSource);
    }
  };

  /** What external-provisioner checks before CreateVolume, and the PV it writes from the driver's answer. */
  const createVolume = async (pvc: Pvc, pvName: string, source: (TypedRef & { namespace: string }) | undefined): Promise<unknown> => {
    const scName = pvc.spec.storageClassName;
    const sc = scName ? await cluster.request('GET', `/apis/storage.k8s.io/v1/storageclasses/${scName}`) : undefined;
    if (!sc?.ok) throw new Error(`storageclass.storage.k8s.io "${scName ?? ''}" not found`);
    if (pvc.spec.selector) throw new Error('claim Selector is not supported');
    const requested = quantityBytes(pvc.spec.resources?.requests?.storage ?? '0');
    if (source) {
      if (source.namespace !== pvc.metadata.namespace) {
        throw new Error('dataSourceRef namespace specified but the CrossNamespaceVolumeDataSource feature is disabled');
      }
      try {
        if (source.kind === 'PersistentVolumeClaim') await checkPvcSource(pvc, source, requested);
        else await checkSnapshotSource(pvc, source, requested);
      } catch (e) {
        throw new Error(`error getting handle for DataSource Type ${source.kind} by Name ${source.name}: ${(e as Error).message}`);
      }
      if (refuseDataOf?.(await sourceClaimOf(source))) {
        throw new Error(
          `rpc error: code = ResourceExhausted desc = cannot create a volume from ${source.kind} ${source.namespace}/${source.name}`,
        );
      }
    }
    const block = pvc.spec.volumeMode === 'Block';
    const fsType = block ? undefined : sc.body.parameters?.['csi.storage.k8s.io/fstype'];
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name: pvName,
        annotations: {
          [ANN_PROVISIONED_BY]: CSI_DRIVER,
          'volume.kubernetes.io/provisioner-deletion-secret-name': '',
          'volume.kubernetes.io/provisioner-deletion-secret-namespace': '',
        },
        finalizers: [PV_FINALIZER],
      },
      spec: {
        accessModes: pvc.spec.accessModes,
        // The driver creates exactly the requested size (a real one may round up).
        capacity: { storage: formatBytes(requested) },
        csi: {
          driver: CSI_DRIVER,
          volumeHandle: `vol-${pvc.metadata.uid}`,
          volumeAttributes: { [PROVISIONER_ID_KEY]: identity },
          ...(fsType ? { fsType } : {}),
        },
        persistentVolumeReclaimPolicy: sc.body.reclaimPolicy ?? 'Delete',
        storageClassName: scName,
        ...(pvc.spec.volumeMode ? { volumeMode: pvc.spec.volumeMode } : {}),
        ...(sc.body.mountOptions ? { mountOptions: sc.body.mountOptions } : {}),
        claimRef: {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          namespace: pvc.metadata.namespace,
          name: pvc.metadata.name,
          uid: pvc.metadata.uid,
          resourceVersion: pvc.metadata.resourceVersion,
        },
      },
    };
  };

  /** external-provisioner getPVCSource (same messages). */
  const checkPvcSource = async (claim: Pvc, source: TypedRef & { namespace: string }, requested: number): Promise<void> => {
    const got = await cluster.request<Pvc>('GET', `/api/v1/namespaces/${source.namespace}/persistentvolumeclaims/${source.name}`);
    if (!got.ok)
      throw new Error(`error getting PVC ${source.name} (namespace "${claim.metadata.namespace}") from api server: ${got.status}`);
    const src = got.body;
    if (src.status?.phase !== 'Bound')
      throw new Error(`the PVC DataSource ${source.name} must have a status of Bound.  Got ${JSON.stringify(src.status ?? {})}`);
    if (src.metadata.deletionTimestamp) throw new Error(`the PVC DataSource ${source.name} is currently being deleted`);
    if (!src.spec.storageClassName) throw new Error(`the source PVC (${src.metadata.name}) storageclass cannot be empty`);
    if (!claim.spec.storageClassName) throw new Error(`the requested PVC (${claim.metadata.name}) storageclass cannot be empty`);
    const srcSize = quantityBytes(src.spec.resources?.requests?.storage ?? '0');
    if (requested < srcSize) {
      throw new Error(
        `error, new PVC request must be greater than or equal in size to the specified PVC data source, requested ${requested} but source is ${srcSize}`,
      );
    }
    if (!src.spec.volumeName) throw new Error(`volume name is empty in source PVC ${src.metadata.name}`);
    const pv = await cluster.request<Pv>('GET', `/api/v1/persistentvolumes/${src.spec.volumeName}`);
    const invalid = 'claim in dataSource not bound or invalid';
    if (!pv.ok || pv.body.spec.csi?.driver !== CSI_DRIVER || pv.body.status?.phase !== 'Bound') throw new Error(invalid);
    const ref = pv.body.spec.claimRef;
    if (ref?.uid !== src.metadata.uid || ref.namespace !== src.metadata.namespace || ref.name !== src.metadata.name)
      throw new Error(invalid);
    const srcBlock = pv.body.spec.volumeMode === 'Block';
    const wantBlock = claim.spec.volumeMode === 'Block';
    if (srcBlock !== wantBlock) {
      throw new Error(
        `the source PVC and destination PVCs must have the same volume mode for cloning.  Source is ${srcBlock ? 'Block' : 'Filesystem'}, but new PVC requested ${wantBlock ? 'Block' : 'Filesystem'}`,
      );
    }
  };

  /** The claim whose data a source carries: the claim itself, or the one a snapshot was taken of. */
  const sourceClaimOf = async (source: TypedRef & { namespace: string }): Promise<string> => {
    if (source.kind === 'PersistentVolumeClaim') return source.name;
    const snap = await cluster.request(
      'GET',
      `/apis/snapshot.storage.k8s.io/v1/namespaces/${source.namespace}/volumesnapshots/${source.name}`,
    );
    return snap.body?.spec?.source?.persistentVolumeClaimName ?? '';
  };

  /** external-provisioner getSnapshotSource (same messages); --prevent-volume-mode-conversion is on by default. */
  const checkSnapshotSource = async (claim: Pvc, source: TypedRef & { namespace: string }, requested: number): Promise<void> => {
    const got = await cluster.request(
      'GET',
      `/apis/snapshot.storage.k8s.io/v1/namespaces/${source.namespace}/volumesnapshots/${source.name}`,
    );
    if (!got.ok) throw new Error(`error getting snapshot ${source.name} from api server: ${got.status}`);
    const snap = got.body;
    if (snap.metadata.deletionTimestamp) throw new Error(`snapshot ${source.name} is being deleted`);
    const contentName = snap.status?.boundVolumeSnapshotContentName;
    if (!contentName) throw new Error(`snapshot ${source.name} not bound`);
    const content = await cluster.request<
      SnapshotContent & { spec: { sourceVolumeMode?: string; volumeSnapshotRef: { name?: string; namespace?: string } } }
    >('GET', `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${contentName}`);
    if (!content.ok) throw new Error(`error getting snapshot:snapshotcontent ${contentName}:${source.name} from api server`);
    const ref = content.body.spec.volumeSnapshotRef;
    if (ref.uid !== snap.metadata.uid || ref.namespace !== snap.metadata.namespace || ref.name !== snap.metadata.name) {
      throw new Error(`snapshotcontent ${contentName} for snapshot ${source.name} is bound to a different snapshot`);
    }
    if (content.body.spec.driver !== CSI_DRIVER)
      throw new Error(`snapshotcontent ${contentName} for snapshot ${source.name} is handled by a different CSI driver`);
    if (snap.status?.readyToUse !== true) throw new Error(`snapshot ${source.name} is not Ready`);
    if (!content.body.status?.snapshotHandle) throw new Error(`snapshot handle ${source.name} is not available`);
    if (snap.status?.restoreSize !== undefined) {
      const restoreSize = quantityBytes(String(snap.status.restoreSize));
      if (requested < restoreSize) {
        throw new Error(`requested volume size ${requested} is less than the size ${restoreSize} for the source snapshot ${source.name}`);
      }
    }
    const sourceMode = content.body.spec.sourceVolumeMode;
    if (sourceMode && claim.spec.volumeMode && sourceMode !== claim.spec.volumeMode) {
      const allow = content.body.metadata.annotations?.['snapshot.storage.kubernetes.io/allow-volume-mode-change'];
      if (allow !== 'true') {
        throw new Error(
          `requested volume ${claim.metadata.namespace}/${claim.metadata.name} modifies the mode of the source volume but does not have permission to do so. snapshot.storage.kubernetes.io/allow-volume-mode-change annotation is not present on snapshotcontent ${contentName}`,
        );
      }
    }
  };

  /** The library's delete of a Released volume with reclaim policy Delete: DeleteVolume, delete the PV, drop the finalizer. */
  const reclaimVolume = async (pv: Pv): Promise<void> => {
    if (pv.metadata.annotations?.[ANN_PROVISIONED_BY] !== CSI_DRIVER) return;
    const hasFinalizer = pv.metadata.finalizers?.includes(PV_FINALIZER) ?? false;
    if (pv.metadata.deletionTimestamp && !hasFinalizer) return;
    if (pv.status?.phase !== 'Released' || pv.spec.persistentVolumeReclaimPolicy !== 'Delete') return;
    const pvPath = `/api/v1/persistentvolumes/${pv.metadata.name}`;
    await expectOk(cluster.request('DELETE', pvPath), `delete PV ${pv.metadata.name}`, [404]);
    if (hasFinalizer) {
      const current = await cluster.request<Pv>('GET', pvPath);
      if (!current.ok) return;
      await expectOk(
        cluster.request(
          'PATCH',
          pvPath,
          {
            metadata: {
              finalizers: (current.body.metadata.finalizers ?? []).filter((f) => f !== PV_FINALIZER),
              resourceVersion: current.body.metadata.resourceVersion,
            },
          },
          { contentType: 'application/merge-patch+json' },
        ),
        `remove finalizer of PV ${pv.metadata.name}`,
        [404, 409],
      );
    }
  };

  // ---------------------------------------------------------------------------------------------
  // external-snapshotter sidecar
  // ---------------------------------------------------------------------------------------------
  const contentPath = (name: string) => `/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents/${name}`;
  const jsonPatch = (path: string, ops: unknown[], what: string) =>
    expectOk(cluster.request('PATCH', path, ops, { contentType: 'application/json-patch+json' }), what, [404]);

  const syncContent = async (content: SnapshotContent): Promise<void> => {
    if (content.spec.driver !== CSI_DRIVER) return;
    const name = content.metadata.name;
    const ann = content.metadata.annotations ?? {};
    if (shouldDelete(content)) {
      if (content.spec.deletionPolicy === 'Delete' && content.status?.snapshotHandle) {
        // DeleteSnapshot succeeded (nothing to free here); then the status is cleared (clearVolumeContentStatus).
        const current = await cluster.request<SnapshotContent>('GET', contentPath(name));
        if (!current.ok) return;
        const status = { ...current.body.status };
        delete status.snapshotHandle;
        delete status.readyToUse;
        delete status.creationTime;
        delete status.restoreSize;
        await expectOk(
          cluster.request('PUT', `${contentPath(name)}/status`, { ...current.body, status }),
          `clear status of ${name}`,
          [404, 409],
        );
        return;
      }
      // removeContentFinalizer
      if (content.metadata.finalizers?.includes(CONTENT_FINALIZER)) {
        await jsonPatch(
          contentPath(name),
          [{ op: 'replace', path: '/metadata/finalizers', value: content.metadata.finalizers.filter((f) => f !== CONTENT_FINALIZER) }],
          `remove finalizer of ${name}`,
        );
      }
      return;
    }
    if (content.spec.source.volumeHandle && !content.status) {
      await createSnapshot(content);
      return;
    }
    if (content.status?.readyToUse && ANN_SNAPSHOT_BEING_CREATED in ann) {
      await jsonPatch(
        contentPath(name),
        [{ op: 'remove', path: `/metadata/annotations/${ANN_SNAPSHOT_BEING_CREATED.replace('/', '~1')}` }],
        `annotations of ${name}`,
      );
    }
  };

  /** snapshot_controller.go shouldDelete */
  const shouldDelete = (content: SnapshotContent): boolean => {
    if (!content.metadata.deletionTimestamp) return false;
    if (content.spec.source.snapshotHandle && !content.spec.volumeSnapshotRef.uid) return true;
    const ann = content.metadata.annotations ?? {};
    if (ANN_SNAPSHOT_BEING_CREATED in ann) return false;
    return ANN_SNAPSHOT_BEING_DELETED in ann;
  };

  /** createSnapshotWrapper: annotate "being created", CreateSnapshot, write the status, drop the annotation. */
  const createSnapshot = async (content: SnapshotContent): Promise<void> => {
    const name = content.metadata.name;
    const fail = async (message: string, final: boolean) => {
      await jsonPatch(
        `${contentPath(name)}/status`,
        [{ op: 'replace', path: '/status', value: { readyToUse: false, error: { time: new Date().toISOString(), message } } }],
        `error status of ${name}`,
      );
      if (final && ANN_SNAPSHOT_BEING_CREATED in (content.metadata.annotations ?? {})) {
        await jsonPatch(
          contentPath(name),
          [{ op: 'remove', path: `/metadata/annotations/${ANN_SNAPSHOT_BEING_CREATED.replace('/', '~1')}` }],
          `annotations of ${name}`,
        );
      }
      await events.record(
        content,
        'VolumeSnapshotContent',
        'Warning',
        'SnapshotCreationFailed',
        message,
        snapshotterSource,
        'snapshot.storage.k8s.io/v1',
      );
    };
    const className = content.spec.volumeSnapshotClassName;
    const cls = className ? await cluster.request('GET', `/apis/snapshot.storage.k8s.io/v1/volumesnapshotclasses/${className}`) : undefined;
    if (!cls?.ok) {
      await fail(
        `Failed to create snapshot: failed to get input parameters to create snapshot for content ${name}: "failed to take snapshot ${name} without a snapshot class"`,
        false,
      );
      return;
    }
    if (!(ANN_SNAPSHOT_BEING_CREATED in (content.metadata.annotations ?? {}))) {
      await expectOk(
        cluster.request(
          'PATCH',
          contentPath(name),
          { metadata: { annotations: { [ANN_SNAPSHOT_BEING_CREATED]: 'yes' } } },
          { contentType: 'application/merge-patch+json' },
        ),
        `annotate ${name}`,
      );
    }
    // CreateSnapshot: the driver knows the source volume by its handle.
    const pvs = await cluster.request<{ items: Pv[] }>('GET', '/api/v1/persistentvolumes');
    const volume = pvs.body.items?.find(
      (pv) => pv.spec.csi?.driver === CSI_DRIVER && pv.spec.csi.volumeHandle === content.spec.source.volumeHandle,
    );
    if (!volume) {
      // NotFound is a final CSI error: the being-created annotation goes.
      await fail(
        `Failed to create snapshot: failed to take snapshot of the volume ${content.spec.source.volumeHandle}: "rpc error: code = NotFound desc = volume not found"`,
        true,
      );
      return;
    }
    const status = {
      snapshotHandle: `snap-${content.metadata.uid}`,
      readyToUse: true,
      creationTime: Date.now() * 1_000_000,
      restoreSize: quantityBytes(volume.spec.capacity?.storage ?? '0'),
    };
    await jsonPatch(`${contentPath(name)}/status`, [{ op: 'replace', path: '/status', value: status }], `status of ${name}`);
    await jsonPatch(
      contentPath(name),
      [{ op: 'remove', path: `/metadata/annotations/${ANN_SNAPSHOT_BEING_CREATED.replace('/', '~1')}` }],
      `annotations of ${name}`,
    );
  };

  const loops: ReconcileLoop[] = [
    reconcileLoop<Pvc>(cluster.request, '/api/v1/persistentvolumeclaims', provisionClaim, intervalMs),
    reconcileLoop<Pv>(cluster.request, '/api/v1/persistentvolumes', reclaimVolume, intervalMs),
    reconcileLoop<SnapshotContent>(cluster.request, '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents', syncContent, intervalMs),
  ];
  return {
    driver: CSI_DRIVER,
    storageClass: CSI_STORAGE_CLASS,
    snapshotClass: CSI_SNAPSHOT_CLASS,
    failVolumesFrom: (refuse) => {
      refuseDataOf = refuse;
    },
    lastErrors: () => loops.flatMap((l) => l.lastErrors),
    async stop() {
      await Promise.all(loops.map((l) => l.stop()));
    },
  };
}

/** The claim's data source as external-provisioner normalises it (dataSource first, then dataSourceRef). */
function dataSourceOf(pvc: Pvc): (TypedRef & { namespace: string }) | undefined {
  const ds = pvc.spec.dataSource ?? pvc.spec.dataSourceRef;
  if (!ds) return undefined;
  const namespace = pvc.spec.dataSource ? pvc.metadata.namespace! : (ds.namespace ?? pvc.metadata.namespace!);
  return { ...ds, namespace };
}

function isCoreSource(ds: TypedRef): boolean {
  return (
    (ds.kind === 'PersistentVolumeClaim' && !ds.apiGroup) || (ds.kind === 'VolumeSnapshot' && ds.apiGroup === 'snapshot.storage.k8s.io')
  );
}

/** Core Events as client-go's recorder writes them: identical ones are folded into one with a count. */
class EventRecorder {
  private readonly seen = new Map<string, { namespace: string; name: string; count: number }>();
  constructor(private readonly cluster: TestCluster) {}

  async record(
    obj: { metadata: ObjectMeta },
    kind: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    source: { component: string },
    apiVersion = 'v1',
  ): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}|${source.component}`;
    const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const prior = this.seen.get(key);
    if (prior) {
      prior.count += 1;
      const patched = await this.cluster.request(
        'PATCH',
        `/api/v1/namespaces/${prior.namespace}/events/${prior.name}`,
        { count: prior.count, lastTimestamp: time },
        { contentType: 'application/merge-patch+json' },
      );
      if (patched.ok) return;
    }
    const name = `${obj.metadata.name}.${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const created = await this.cluster.request('POST', `/api/v1/namespaces/${namespace}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind,
        apiVersion,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message,
      source,
      reportingComponent: source.component,
      reportingInstance: '',
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    });
    if (created.ok) this.seen.set(key, { namespace, name, count: 1 });
  }
}

/** A byte count as resource.NewQuantity(bytes, BinarySI) prints it: the largest binary suffix that divides it. */
export function formatBytes(bytes: number): string {
  for (const [suffix, factor] of [
    ['Pi', 2 ** 50],
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${suffix}`;
  }
  return String(bytes);
}
