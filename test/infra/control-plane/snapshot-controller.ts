/**
 * The CSI snapshot controller (kubernetes-csi/external-snapshotter's cmd/snapshot-controller),
 * installed the way its release deploys it: the VolumeSnapshot* CRDs and its RBAC
 * (deploy/kubernetes/snapshot-controller/rbac-snapshot-controller.yaml, both copied by
 * build-control-plane-binaries.sh), run as a process under its own ServiceAccount
 * (kube-system/snapshot-controller). Leader election is off: there is one instance.
 *
 * It binds VolumeSnapshots to VolumeSnapshotContents and reports their status; the CSI side
 * (CreateSnapshot) is the csi-snapshotter sidecar's, played by test/infra/node/csi-driver.ts.
 */
import { readFileSync } from 'node:fs';
import type { ManagedProcess, TestCluster } from '../cluster';
import { applyAll, binaryOutput, loadYamlDir, serviceAccountKubeconfig, until } from './apply';

const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'snapshot-controller';

export interface SnapshotControllerOptions {
  bin: string;
  /** The snapshot/ folder of CONTROL_PLANE_MANIFESTS. */
  manifestsDir: string;
  deadlineAt: number;
}

export interface SnapshotController {
  /** What the binary reports (`--version`), e.g. "v8.2.0". */
  version: string;
  process: ManagedProcess;
  /** Spawn -> its controller started (informers synced right after, against a local API server). */
  startMs: number;
  /** Starts it again after a stop(); resolves when it is running. */
  restart(deadlineAt: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startSnapshotController(cluster: TestCluster, opts: SnapshotControllerOptions): Promise<SnapshotController> {
  const printed = await binaryOutput(opts.bin, ['--version']);
  const version = /\s(v\d+\.\d+\.\d+\S*)\s*$/.exec(printed)?.[1] ?? printed;
  await applyAll(cluster, loadYamlDir(opts.manifestsDir), opts.deadlineAt);

  const proc = cluster.spawnProcess({
    name: 'snapshot-controller',
    bin: opts.bin,
    args: [`--kubeconfig=${await serviceAccountKubeconfig(cluster, NAMESPACE, SERVICE_ACCOUNT)}`, '--leader-election=false', '--v=2'],
  });

  // Without leader election it leaves no trace in the API; "Starting snapshot controller" is
  // logged by csiSnapshotCommonController.Run (pkg/common-controller/snapshot_controller_base.go)
  // once the CRDs were found, right before its informers sync.
  const waitStarted = async (deadlineAt: number, since: number): Promise<number> => {
    const t0 = Date.now();
    await until(deadlineAt, `snapshot-controller started (log ${proc.logFile})`, async () => {
      if (proc.exited) throw new Error(`snapshot-controller exited (${JSON.stringify(proc.exited)})`);
      return readFileSync(proc.logFile, 'utf8').slice(since).includes('Starting snapshot controller');
    });
    return Date.now() - t0;
  };
  const startMs = await waitStarted(opts.deadlineAt, 0);

  return {
    version,
    process: proc,
    startMs,
    async restart(deadlineAt) {
      const since = readFileSync(proc.logFile, 'utf8').length;
      proc.start();
      return waitStarted(deadlineAt, since);
    },
    stop: () => proc.stop(),
  };
}
