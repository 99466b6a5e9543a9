/**
 * Smoke test of the integration-tier control plane (test/infra/cluster.ts): a real kube-apiserver,
 * etcd and kube-controller-manager with the official third-party CRDs installed.
 *
 * Without the binaries (built by test/infra/build-test-binaries.sh, which needs Go) the suite is
 * skipped with the reason printed; under CI (env CI set) it fails instead.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTestBinaries, REPO_ROOT, startTestCluster, type TestCluster } from './cluster';

const EXAMPLE = path.resolve(REPO_ROOT, '..', 'shared', 'examples', 'session-snapshot-path.yaml');
const SESSION_NS = 'user-session-76c3ac1b';

const bins = findTestBinaries();
const missing = 'missing' in bins ? bins.missing : undefined;

if (missing && process.env.CI) {
  describe('integration test cluster', () => {
    it('has the kube-apiserver/etcd test binaries', () => {
      throw new Error(missing);
    });
  });
} else if (missing) {
  console.warn(`integration tier skipped: ${missing}`);
}

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any };

function readExampleObjects(): Obj[] {
  const docs = (loadAll(readFileSync(EXAMPLE, 'utf8')) as Obj[]).filter((d) => d?.kind);
  // Namespaces first so that everything namespaced has a home.
  return [...docs.filter((d) => d.kind === 'Namespace'), ...docs.filter((d) => d.kind !== 'Namespace')];
}

async function waitUntil(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < deadlineMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
}

describe.skipIf(!!missing)('integration test cluster', () => {
  let cluster: TestCluster | undefined;
  const c = () => {
    if (!cluster) throw new Error('cluster did not start');
    return cluster;
  };

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await startTestCluster();
    console.log(
      `test cluster up in ${Date.now() - t0} ms: ${JSON.stringify(cluster.timings)} (${cluster.crds.length} CRDs, data ${cluster.dataDir})`,
    );
  }, 180_000);

  afterAll(async () => {
    const dir = cluster?.dataDir;
    await cluster?.stop();
    if (dir && !process.env.CKS_LAB_KEEP_TEST_CLUSTER) expect(existsSync(dir)).toBe(false);
  }, 60_000);

  it('reports the real Kubernetes release', async () => {
    const { version } = c();
    console.log('kube-apiserver', version);
    expect(version).toMatch(/^v1\.\d+\.\d+/);
    if (!('missing' in bins) && bins.version !== 'unknown') expect(version).toBe(bins.version);
    const r = await c().request('GET', '/version');
    expect(r.status).toBe(200);
    expect(r.body.gitVersion).toBe(version);
  });

  it('serves the KubeVirt VirtualMachine CRD', async () => {
    const crd = await c().request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/virtualmachines.kubevirt.io');
    expect(crd.status).toBe(200);
    expect(crd.body.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    const discovery = await c().request('GET', '/apis/kubevirt.io/v1');
    expect(discovery.status).toBe(200);
    expect(discovery.body.resources.map((r: { name: string }) => r.name)).toContain('virtualmachines');
    const list = await c().request('GET', '/apis/kubevirt.io/v1/namespaces/vm-templates/virtualmachines');
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('VirtualMachineList');
  });

  it.skipIf(!existsSync(EXAMPLE))(
    'creates the session-snapshot-path example objects with fieldValidation=Strict',
    async () => {
      for (const obj of readExampleObjects()) {
        const p = await c().resourcePath(obj.apiVersion, obj.kind, obj.metadata.namespace);
        const r = await c().request('POST', `${p}?fieldValidation=Strict`, obj);
        expect(r.status, `${obj.kind} ${obj.metadata.name}: ${r.text}`).toBe(201);
        expect(r.headers.warning, `${obj.kind} ${obj.metadata.name}`).toBeUndefined();
      }
      const vms = await c().request('GET', `/apis/kubevirt.io/v1/namespaces/${SESSION_NS}/virtualmachines`);
      expect(vms.body.items).toHaveLength(1);
    },
    120_000,
  );

  it.skipIf(!existsSync(EXAMPLE))('rejects a misspelt field with fieldValidation=Strict', async () => {
    const vm = readExampleObjects().find((o) => o.kind === 'VirtualMachine')!;
    const bad = structuredClone(vm);
    bad.metadata.name = 'misspelt';
    bad.spec.runStrategyy = bad.spec.runStrategy;
    delete bad.spec.runStrategy;
    const r = await c().request('POST', `/apis/kubevirt.io/v1/namespaces/${SESSION_NS}/virtualmachines?fieldValidation=Strict`, bad);
    expect([400, 422]).toContain(r.status);
    expect(r.body.message).toMatch(/unknown field "spec\.runStrategyy"/);
    const gone = await c().request('GET', `/apis/kubevirt.io/v1/namespaces/${SESSION_NS}/virtualmachines/misspelt`);
    expect(gone.status).toBe(404);
  });

  it.skipIf(!existsSync(EXAMPLE))(
    'deletes a namespace and its contents (namespace controller runs)',
    async () => {
      const del = await c().request('DELETE', `/api/v1/namespaces/${SESSION_NS}`);
      expect(del.status).toBe(200);
      const ms = await waitUntil(`namespace ${SESSION_NS} gone`, 60_000, async () => {
        const r = await c().request('GET', `/api/v1/namespaces/${SESSION_NS}`);
        return r.status === 404;
      });
      console.log(`namespace ${SESSION_NS} deleted in ${ms} ms`);
      const vm = await c().request(
        'GET',
        `/apis/kubevirt.io/v1/namespaces/${SESSION_NS}/virtualmachines/cks-control-plane-user-session-76c3ac1b`,
      );
      expect(vm.status).toBe(404);
    },
    90_000,
  );

  it('issues ServiceAccount tokens that authenticate (and RBAC applies)', async () => {
    const token = await c().createServiceAccountToken('vm-templates', 'default');
    expect(token.split('.')).toHaveLength(3);
    const review = await c().request(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      },
      { token },
    );
    expect(review.status).toBe(201);
    expect(review.body.status.userInfo.username).toBe('system:serviceaccount:vm-templates:default');
    const denied = await c().request('GET', '/api/v1/namespaces/vm-templates/secrets', undefined, { token });
    expect(denied.status).toBe(403);
    const bogus = await c().request('GET', '/api/v1/namespaces', undefined, { token: 'not-a-token' });
    expect(bogus.status).toBe(401);
    const kubeconfig = readFileSync(c().writeKubeconfigForToken(token), 'utf8');
    expect(kubeconfig).toContain(token);
    expect(kubeconfig).toContain(c().server);
  });

  it('survives kube-apiserver being killed and restarted', async () => {
    await c().stopApiServer();
    await expect(c().request('GET', '/readyz', undefined, { timeoutMs: 2_000 })).rejects.toThrow();
    const t0 = Date.now();
    await c().startApiServer();
    console.log(`kube-apiserver restarted and ready in ${Date.now() - t0} ms`);
    const ready = await c().request('GET', '/readyz');
    expect(ready.status).toBe(200);
    // State is in etcd, which kept running.
    expect((await c().request('GET', '/api/v1/namespaces/vm-templates')).status).toBe(200);
    const vms = await c().request('GET', '/apis/kubevirt.io/v1/virtualmachines');
    expect(vms.status).toBe(200);
  }, 120_000);
});
