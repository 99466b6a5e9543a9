/**
 * KubeVirt's real virt-api and virt-controller on the test API server, with the node played by the
 * kubelet and virt-handler stand-ins: a VM on a pre-bound PVC starts, becomes ready through its
 * readiness probe, halts, and its VMI and launcher pod go away — every status on the way written
 * by the real controllers (pkg/virt-controller/watch/vm/vm.go, .../vmi/lifecycle.go).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { until } from './apply';
import { describeWithRealControllers, type RealCluster, startRealCluster } from './real-cluster';

/** Start-up of every control plane, cold, on 2 cores. */
const START_TIMEOUT_MS = 300_000;

describeWithRealControllers('KubeVirt v1.8 control plane with node stand-ins', () => {
  let real: RealCluster;
  const ns = 'kubevirt-smoke';
  const vmPath = `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachines`;

  beforeAll(async () => {
    real = await startRealCluster();
    console.log(`versions ${JSON.stringify(real.versions)}, start-up ms ${JSON.stringify(real.timings)}`);
    const { cluster } = real;
    const must = async (method: string, path: string, body: unknown) => {
      const r = await cluster.request(method, path, body);
      if (!r.ok) throw new Error(`${method} ${path} -> ${r.status}: ${r.text}`);
    };
    await must('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } },
    });
    await must('POST', '/api/v1/persistentvolumes', {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'smoke-root' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        hostPath: { path: '/dev/null' },
        claimRef: { namespace: ns, name: 'root' },
        persistentVolumeReclaimPolicy: 'Retain',
      },
    });
    await must('POST', `/api/v1/namespaces/${ns}/persistentvolumeclaims`, {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'root', namespace: ns },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'smoke-root', storageClassName: '' },
    });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    if (real) {
      for (const p of [real.kubevirt.virtApi, real.kubevirt.virtController])
        if (p.exited) console.log(`${p.name} exited ${JSON.stringify(p.exited)}`);
      await real.stop();
    }
  });

  it('starts a VM, reports it ready from its readiness probe, and halts it', async () => {
    const { cluster } = real;
    const created = await cluster.request('POST', `${vmPath}?fieldValidation=Strict`, {
      apiVersion: 'kubevirt.io/v1',
      kind: 'VirtualMachine',
      metadata: { name: 'smoke', namespace: ns },
      spec: {
        runStrategy: 'Always',
        template: {
          spec: {
            domain: { devices: { disks: [{ name: 'root', disk: { bus: 'virtio' } }] }, memory: { guest: '1Gi' } },
            readinessProbe: { exec: { command: ['/bin/true'] }, initialDelaySeconds: 1, periodSeconds: 1 },
            volumes: [{ name: 'root', persistentVolumeClaim: { claimName: 'root' } }],
          },
        },
      },
    });
    expect(created.status, created.text).toBe(201);
    const seen = new Set<string>();
    await until(Date.now() + 90_000, 'VM smoke ready', async () => {
      const vm = (await cluster.request('GET', `${vmPath}/smoke`)).body;
      seen.add(vm?.status?.printableStatus);
      return vm?.status?.ready === true;
    }).catch(async (e) => {
      const vm = (await cluster.request('GET', `${vmPath}/smoke`)).body;
      const vmi = (await cluster.request('GET', `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/smoke`)).body;
      const pods = (await cluster.request('GET', `/api/v1/namespaces/${ns}/pods`)).body;
      throw new Error(
        `${(e as Error).message}\nVM status ${JSON.stringify(vm?.status)}\nVMI status ${JSON.stringify(vmi?.status)}\npods ${JSON.stringify(pods?.items?.map((p: any) => ({ nodeSelector: p.spec.nodeSelector, affinity: p.spec.affinity, status: p.status })))}`,
      );
    });
    expect(seen).toContain('Running');
    const vmi = (await cluster.request('GET', `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/smoke`)).body;
    expect(vmi.status.phase).toBe('Running');
    expect(vmi.status.conditions.find((c: { type: string }) => c.type === 'Ready')?.status).toBe('True');

    const halted = await cluster.request(
      'PATCH',
      `${vmPath}/smoke`,
      { spec: { runStrategy: 'Halted' } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(halted.ok, halted.text).toBe(true);
    await until(Date.now() + 60_000, 'VMI smoke gone and VM Stopped', async () => {
      const vmiNow = await cluster.request('GET', `/apis/kubevirt.io/v1/namespaces/${ns}/virtualmachineinstances/smoke`);
      const vm = (await cluster.request('GET', `${vmPath}/smoke`)).body;
      return vmiNow.status === 404 && vm?.status?.printableStatus === 'Stopped';
    });
    const pods = (await cluster.request('GET', `/api/v1/namespaces/${ns}/pods`)).body.items;
    expect(pods).toEqual([]);
  });
});
