/**
 * A test cluster whose control planes are the real ones: kube-apiserver, etcd,
 * kube-controller-manager and kube-scheduler, KubeVirt's virt-api and virt-controller, CDI's
 * cdi-apiserver and cdi-controller, and the CSI snapshot-controller, all built from their Go
 * modules. Only what runs on a node is played by test code (test/infra/node): the kubelet, the
 * CSI driver with its sidecars, and virt-handler with a timing model of the guest.
 */
import path from 'node:path';
import { quantityBytes } from '@cks-lab/kubevirt';
import { DEFAULT_CRDS_DIR, findTestBinaries, type ManagedProcess, startTestCluster, type TestCluster } from '../cluster';
import { describeWithBinaries } from '../describe-with-binaries';
import { type CsiDriverStandIn, startCsiDriver } from '../node/csi-driver';
import { startCsiResizer } from '../node/csi-resizer';
import { type Kubelet, type Pod, startKubelet, type Workloads } from '../node/kubelet';
import { type GuestTimings, startVirtHandler, type VirtHandler } from '../node/virt-handler';
import { applyAll, loadYamlDir } from './apply';
import { type ControlPlaneBinaries, findControlPlaneBinaries } from './binaries';
import { type CdiControlPlane, startCdi } from './cdi';
import { type KubevirtControlPlane, startKubevirt } from './kubevirt';
import { type SnapshotController, startSnapshotController } from './snapshot-controller';

export interface RealCluster {
  cluster: TestCluster;
  kubevirt: KubevirtControlPlane;
  cdi: CdiControlPlane;
  snapshotController: SnapshotController;
  scheduler: ManagedProcess;
  csi: CsiDriverStandIn;
  kubelet: Kubelet;
  virtHandler: VirtHandler;
  /** Component -> release, for the test log. */
  versions: Record<string, string>;
  /** Start-up time of each part, ms. */
  timings: Record<string, number>;
  stop(): Promise<void>;
}

export interface StartRealClusterOptions {
  guest?: Partial<GuestTimings>;
  /** Deadline for the whole start-up. Default 240 s (cold caches on 2 cores). */
  startTimeoutMs?: number;
}

/**
 * kube-controller-manager's controllers for the real control planes (Kubernetes 1.35 names): the PV
 * binder binds what the CSI stand-in provisions; the protection controllers release deleted claims
 * and volumes; node lifecycle lifts the not-ready taint every new Node is admitted with once its
 * kubelet reports Ready.
 */
export const CONTROLLER_MANAGER_CONTROLLERS = [
  'namespace-controller',
  'garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'persistentvolumeclaim-protection-controller',
  'persistentvolume-protection-controller',
  'persistentvolume-binder-controller',
  'ttl-after-finished-controller',
  'node-lifecycle-controller',
].join(',');

/** The KubeVirt feature gates cks-lab needs on v1.8 (Snapshot is Beta, off unless listed). */
export const KUBEVIRT_FEATURE_GATES = ['Snapshot'];

/** Why the real-controller tier cannot run here, or undefined when it can. */
function realClusterUnavailable(): string | undefined {
  const k8s = findTestBinaries();
  if ('missing' in k8s) return k8s.missing;
  const planes = findControlPlaneBinaries();
  return 'missing' in planes ? planes.missing : undefined;
}

/** `describe` for a suite on the real control planes (skipped with the reason without the binaries, failing under CI). */
export function describeWithRealControllers(name: string, body: () => void): void {
  describeWithBinaries(name, realClusterUnavailable(), body);
}

export async function startRealCluster(opts: StartRealClusterOptions = {}): Promise<RealCluster> {
  const found = findControlPlaneBinaries();
  if ('missing' in found) throw new Error(found.missing);
  const bins: ControlPlaneBinaries = found;
  const deadlineAt = Date.now() + (opts.startTimeoutMs ?? 240_000);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await work();
    timings[name] = Date.now() - t0;
    return result;
  };

  const cluster = await timed('kube-apiserver', () =>
    startTestCluster({
      // The real controllers' own CRDs come with them; of ../shared only what no controller here installs (Multus).
      crdsDir: false,
      controllerManagerArgs: [`--controllers=${CONTROLLER_MANAGER_CONTROLLERS}`],
    }),
  );
  const stops: Array<() => Promise<void>> = [() => cluster.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    await applyAll(
      cluster,
      loadYamlDir(DEFAULT_CRDS_DIR).filter((d) => d.metadata.name === 'network-attachment-definitions.k8s.cni.cncf.io'),
      deadlineAt,
    );

    const scheduler = cluster.spawnProcess({
      name: 'kube-scheduler',
      bin: bins.kubeScheduler,
      args: [`--kubeconfig=${cluster.kubeconfigPath}`, '--leader-elect=false', '--secure-port=0'],
    });

    // Storage first (the snapshot CRDs before the driver's VolumeSnapshotClass): CDI makes a StorageProfile per StorageClass, and virt-controller looks for CDI's APIs once at start.
    const snapshotController = await timed('snapshot-controller', () =>
      startSnapshotController(cluster, { bin: bins.snapshotController, manifestsDir: path.join(bins.manifests, 'snapshot'), deadlineAt }),
    );
    stops.push(() => snapshotController.stop());
    const csi = await timed('csi-driver', () => startCsiDriver(cluster, { defaultClass: true }));
    stops.push(() => csi.stop());
    const resizer = startCsiResizer(cluster);
    stops.push(() => resizer.stop());
    const cdi = await timed('cdi', () =>
      startCdi(cluster, {
        binaries: { controller: bins.cdiController, apiserver: bins.cdiApiserver },
        manifestsDir: path.join(bins.manifests, 'cdi'),
        deadlineAt,
        storageClass: { name: csi.storageClass, claimPropertySets: [{ accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' }] },
      }),
    );
    stops.push(() => cdi.stop());

    const kubevirt = await timed('kubevirt', () =>
      startKubevirt(cluster, {
        virtApiBin: bins.virtApi,
        virtControllerBin: bins.virtController,
        version: bins.kubevirtVersion,
        manifestsDir: path.join(bins.manifests, 'kubevirt'),
        featureGates: KUBEVIRT_FEATURE_GATES,
        deadlineAt,
      }),
    );
    stops.push(() => kubevirt.stop());

    // The kubelet asks virt-handler's guest model about virt-launcher pods (which are never
    // restarted, and end when the guest powers off). Other pods are ready at once; those that are
    // not restarted are jobs (CDI's claim-prep pod only echoes) and succeed once they have run.
    let virtHandler: VirtHandler | undefined;
    const workloads: Workloads = {
      ready: (pod: Pod, container: string) => (isLauncher(pod) ? (virtHandler?.ready(pod, container) ?? false) : true),
      exitCode: (pod: Pod) => {
        if (isLauncher(pod)) return virtHandler?.exitCode(pod);
        const job = pod.spec.restartPolicy === 'Never' || pod.spec.restartPolicy === 'OnFailure';
        return job && pod.status?.phase === 'Running' ? 0 : undefined;
      },
      // virt-launcher turns SIGTERM into a guest shutdown and exits when the guest is off.
      exitsGracefully: isLauncher,
      terminationMessage: (pod: Pod) => (isSizeDetection(pod) ? virtualImageSize(cluster, pod) : Promise.resolve(undefined)),
    };
    const kubelet = await startKubelet(cluster, workloads);
    stops.push(() => kubelet.stop());
    const handlerToken = kubevirt.handlerToken;
    virtHandler = await startVirtHandler(
      cluster,
      (method, urlPath, body, ropts) => cluster.request(method, urlPath, body, { ...ropts, token: handlerToken }),
      opts.guest,
    );
    stops.push(() => virtHandler!.stop());

    return {
      cluster,
      kubevirt,
      cdi,
      snapshotController,
      scheduler,
      csi,
      kubelet,
      virtHandler,
      versions: {
        'kube-apiserver': cluster.version,
        'kube-scheduler': cluster.version,
        'virt-controller': bins.kubevirtVersion,
        'virt-api': bins.kubevirtVersion,
        'cdi-controller': cdi.versions.controller,
        'cdi-apiserver': cdi.versions.apiserver,
        'snapshot-controller': snapshotController.version,
      },
      timings,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

const isLauncher = (pod: Pod) => pod.metadata.labels?.['kubevirt.io'] === 'virt-launcher';
const isSizeDetection = (pod: Pod) => pod.spec.containers[0]?.command?.[0] === '/usr/bin/cdi-image-size-detection';

/**
 * What CDI's size-detection pod prints (qemu-img's virtual size of the disk image on the claim it
 * mounts; pkg/controller/datavolume/pvc-clone-controller.go getSizeFromPod). There is no image
 * here: a CDI-written disk image fills its claim's usable space, its capacity less CDI's file
 * system overhead (0.06 by default), and that is what this model reports.
 */
async function virtualImageSize(cluster: TestCluster, pod: Pod): Promise<string | undefined> {
  const claim = pod.spec.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.claimName;
  if (!claim) return undefined;
  const pvc = await cluster.request('GET', `/api/v1/namespaces/${pod.metadata.namespace}/persistentvolumeclaims/${claim}`);
  const capacity = pvc.body?.status?.capacity?.storage;
  return capacity ? String(Math.floor((quantityBytes(capacity) * 0.94) / 512) * 512) : undefined;
}
