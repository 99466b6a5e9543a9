import { names, type Preflight, ROLES, type Role } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import { bootstrapPkiFromSecret } from './guest/bootstrap-pki';
import { KubevirtCluster } from './kubevirt-cluster';
import { bootstrapFlowObjects, DEFAULT_CLUSTER_SETTINGS, goldenBuildObjects, snapshotFlowObjects } from './manifests';
import type { KubeObject, ObjectApi } from './object-api';
import { R } from './resources';
import { MemoryObjectApi } from './simulator/memory-object-api';

/**
 * Issue 4, "done when" 2: what `npm run manifests` prints (the flow builders) is exactly what the
 * adapter sends. The adapter runs over an API that records every create, with no controllers, and
 * the recorded objects are compared with the flows' objects, in order.
 */
const settings = DEFAULT_CLUSTER_SETTINGS;
const sessionId = '76c3ac1b';
const preflight = async (): Promise<Preflight> => ({ checks: [], snapshotSupported: true, snapshotUnsupportedReason: null });

async function recordingCluster() {
  const memory = new MemoryObjectApi();
  await memory.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm-templates' } });
  const sent: KubeObject[] = [];
  const api = new Proxy(memory, {
    get(target, property, receiver) {
      if (property === 'create') {
        return (object: KubeObject) => {
          sent.push(structuredClone(object));
          return target.create(object);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as ObjectApi;
  return { cluster: new KubevirtCluster(api, settings, 'simulated', preflight), sent, memory };
}

describe('the manifests command shows what the adapter sends', () => {
  it('snapshot strategy', async () => {
    const { cluster, sent } = await recordingCluster();
    await cluster.ensureSessionBase(sessionId);
    for (const role of ROLES) await cluster.ensureVm(sessionId, role, { kind: 'golden', version: 3, pvc: names.goldenCopy(role, 3) });
    expect(sent).toEqual(snapshotFlowObjects(sessionId, 3, settings));
  });

  it('bootstrap strategy, with the PKI the adapter generated and kept', async () => {
    const { cluster, sent } = await recordingCluster();
    await cluster.ensureSessionBase(sessionId);
    for (const role of ROLES) await cluster.ensureVm(sessionId, role, { kind: 'base-image' });
    const pkiSecret = sent.find((o) => o.kind === 'Secret' && o.metadata.name === 'cks-lab-bootstrap');
    expect(pkiSecret).toBeDefined();
    expect(sent).toEqual(bootstrapFlowObjects(sessionId, settings, bootstrapPkiFromSecret(pkiSecret!)));
  });

  it('golden image build', async () => {
    const { cluster, sent, memory } = await recordingCluster();
    await cluster.ensureSessionBase(sessionId);
    sent.length = 0;
    const volumeSnapshots: Record<Role, string> = { 'control-plane': 'vmsnapshot-a-volume-root', worker: 'vmsnapshot-b-volume-root' };
    // The snapshotter reports their restoreSize, which CDI sizes the copies by.
    for (const role of ROLES) {
      await memory.create({
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name: volumeSnapshots[role], namespace: names.namespace(sessionId) },
      });
      await memory.patchStatus(R.volumeSnapshot, names.namespace(sessionId), volumeSnapshots[role], {
        readyToUse: true,
        restoreSize: '22763326669',
      });
    }
    for (const role of ROLES) await cluster.ensureVmSnapshot(sessionId, role, 4);
    for (const role of ROLES) {
      await cluster.ensureGoldenCopy(
        4,
        { role, volumeSnapshot: volumeSnapshots[role], pvc: names.goldenCopy(role, 4), sizeBytes: null },
        names.namespace(sessionId),
      );
    }
    await cluster.pointGoldenDataSources(4);
    expect(sent).toEqual(goldenBuildObjects(sessionId, 4, volumeSnapshots, settings));
  });
});
