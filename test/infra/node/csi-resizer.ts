/**
 * The CSI external-resizer sidecar of the test CSI driver: a bound claim of the driver whose
 * request grew past its capacity gets its volume expanded on the "controller" side (the PV's
 * capacity), then waits for the node to finish it (FileSystemResizePending, which the kubelet
 * stand-in clears when a pod mounts the claim), as external-resizer does for drivers with node
 * expansion (kubernetes-csi/external-resizer pkg/controller/controller.go). CDI grows clone
 * targets this way before it hands them over (pkg/controller/clone/prep-claim.go).
 */
import { quantityBytes } from '@cks-lab/kubevirt';
import type { TestCluster } from '../cluster';
import { CSI_DRIVER } from './csi-driver';
import { expectOk, type ReconcileLoop, reconcileLoop } from './reconcile-loop';

interface Claim {
  metadata: { name: string; namespace: string };
  spec: { volumeName?: string; volumeMode?: string; resources: { requests: { storage: string } } };
  status?: { phase?: string; capacity?: { storage?: string }; conditions?: Array<{ type: string; status: string }> };
}

export function startCsiResizer(cluster: TestCluster): ReconcileLoop {
  return reconcileLoop<Claim>(cluster.request, '/api/v1/persistentvolumeclaims', async (claim) => {
    const requested = claim.spec.resources.requests.storage;
    const capacity = claim.status?.capacity?.storage;
    if (claim.status?.phase !== 'Bound' || !claim.spec.volumeName || !capacity || quantityBytes(requested) <= quantityBytes(capacity))
      return;
    if ((claim.status.conditions ?? []).some((c) => c.type === 'FileSystemResizePending')) return;
    const pvPath = `/api/v1/persistentvolumes/${claim.spec.volumeName}`;
    const volume = await cluster.request('GET', pvPath);
    if (!volume.ok || volume.body.spec.csi?.driver !== CSI_DRIVER) return;
    if (quantityBytes(volume.body.spec.capacity.storage) < quantityBytes(requested)) {
      await expectOk(
        cluster.request('PATCH', pvPath, { spec: { capacity: { storage: requested } } }, { contentType: 'application/merge-patch+json' }),
        `expand PV ${claim.spec.volumeName}`,
      );
    }
    const claimPath = `/api/v1/namespaces/${claim.metadata.namespace}/persistentvolumeclaims/${claim.metadata.name}/status`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // Block volumes need no file system grown on the node: the claim has its capacity at once.
    const status =
      claim.spec.volumeMode === 'Block'
        ? { capacity: { storage: requested } }
        : {
            conditions: [
              ...(claim.status.conditions ?? []),
              {
                type: 'FileSystemResizePending',
                status: 'True',
                lastProbeTime: null,
                lastTransitionTime: now,
                message: 'Waiting for user to (re-)start a pod to finish file system resize of volume on node.',
              },
            ],
          };
    await expectOk(
      cluster.request('PATCH', claimPath, { status }, { contentType: 'application/merge-patch+json' }),
      `resize status of ${claim.metadata.namespace}/${claim.metadata.name}`,
    );
  });
}
