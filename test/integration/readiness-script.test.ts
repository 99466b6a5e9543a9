import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneReadyScript } from '@cks-lab/kubevirt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findTestBinaries, type TestCluster } from '../infra/cluster';
import { describeWithApiServer, startApiServer } from './support/test-cluster';

/**
 * The in-guest readiness check (docs/architecture.md#cluster-facts, 7) run by a real shell with a real kubectl against the
 * test API server: a restored etcd says Nodes are Ready, so the check must refuse while the Leases
 * were last renewed before this boot, and pass once the kubelets have renewed them.
 */
describeWithApiServer('readiness script against a real API server', () => {
  let cluster: TestCluster;
  let dir: string;
  const bootTime = Math.floor(Date.now() / 1000) - 120;
  const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const microIso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace('Z', '000Z');

  const must = async (method: string, path: string, body?: unknown, contentType?: string) => {
    const response = await cluster.request(method, path, body, contentType ? { contentType } : {});
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
  };
  const mergePatch = (path: string, body: unknown) => must('PATCH', path, body, 'application/merge-patch+json');

  const runCheck = () => {
    const binaries = findTestBinaries();
    const kubectl = 'missing' in binaries ? 'kubectl' : (process.env.KUBECTL ?? join(binaries.kubeApiserver, '..', 'kubectl'));
    const result = spawnSync('sh', [join(dir, 'cks-lab-ready'), '2'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        KUBECTL: kubectl,
        KUBECONFIG: cluster.kubeconfigPath,
        BOOT_TIME: String(bootTime),
        READY_NAMESPACES: 'kube-system',
      },
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
  };

  const setLeases = async (renewedAt: number) => {
    for (const node of ['controlplane', 'node01']) {
      await mergePatch(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${node}`, {
        spec: { renewTime: microIso(renewedAt) },
      });
    }
  };

  beforeAll(async () => {
    cluster = await startApiServer();
    dir = mkdtempSync(join(tmpdir(), 'cks-lab-ready-'));
    writeFileSync(join(dir, 'cks-lab-ready'), controlPlaneReadyScript, { mode: 0o755 });
    const now = Math.floor(Date.now() / 1000);
    for (const node of ['controlplane', 'node01']) {
      await must('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
      await mergePatch(`/api/v1/nodes/${node}/status`, {
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'KubeletReady',
              message: 'restored etcd says so',
              lastHeartbeatTime: iso(now),
              lastTransitionTime: iso(now),
            },
          ],
        },
      });
      await must('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: node, namespace: 'kube-node-lease' },
        spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: microIso(bootTime - 3600) },
      });
    }
    await must('POST', '/api/v1/namespaces/kube-system/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'coredns-0', namespace: 'kube-system' },
      spec: { nodeName: 'controlplane', containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.12.1' }] },
    });
    await mergePatch('/api/v1/namespaces/kube-system/pods/coredns-0/status', {
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [
          {
            name: 'coredns',
            ready: true,
            restartCount: 0,
            image: 'registry.k8s.io/coredns/coredns:v1.12.1',
            imageID: '',
            state: { running: { startedAt: iso(now - 30) } },
          },
        ],
      },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is not ready while the Leases were last renewed before this boot, though Nodes say Ready', async () => {
    const result = runCheck();
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/lease not renewed since boot/);
  });

  it('is ready once every node has renewed its Lease since boot', async () => {
    await setLeases(Math.floor(Date.now() / 1000));
    const result = runCheck();
    expect(result.output).toBe('ready: 2 nodes');
    expect(result.status).toBe(0);
  });

  it('is not ready when a node is missing', async () => {
    await must('DELETE', '/api/v1/nodes/node01');
    const result = runCheck();
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/1 of 2 nodes/);
  });
});
