import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_LATENCY_MODEL, SimulatedControllers } from '@cks-lab/kubevirt';
import { ClientNodeObjectApi } from '@cks-lab/kubevirt/kubernetes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, type TestCluster } from '../infra/cluster';
import { installSnapshotPrerequisites } from './support/cluster-fixtures';
import { installDeployRbac } from './support/deploy-manifests';
import { SETTINGS, testLogger } from './support/platform';
import { describeWithApiServer, kubeConfigOf, startApiServer } from './support/test-cluster';

/**
 * Issue 4, "done when" 3: the product itself — the production Next.js server started as a user
 * starts it, with LAB_CLUSTER=kube and a kubeconfig holding only deploy/'s ServiceAccount token —
 * runs against the real API server (KubeVirt's controllers simulated there), driven by the `lab` CLI:
 * a session by bootstrap, a golden image, a session by snapshot.
 */
const run = promisify(execFile);
const WEB = join(REPO_ROOT, 'apps/web');
const ADMIN_TOKEN = 'kube-mode-admin-token-0123';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describeWithApiServer('LAB_CLUSTER=kube: the product end to end on a real kube-apiserver', () => {
  let cluster: TestCluster;
  let controllers: SimulatedControllers;
  let admin: ClientNodeObjectApi;
  let server: ChildProcess;
  let dataDir: string;
  let url: string;

  const lab = async (...args: string[]) => {
    const { stdout } = await run('npx', ['tsx', 'cli/lab.ts', ...args, '--json'], {
      cwd: WEB,
      env: { ...process.env, LAB_URL: url, LAB_ADMIN_TOKEN: ADMIN_TOKEN },
      timeout: 120_000,
    });
    return JSON.parse(stdout);
  };

  beforeAll(async () => {
    if (!existsSync(join(WEB, '.next', 'BUILD_ID'))) throw new Error('apps/web is not built: run `npm run build` first');
    cluster = await startApiServer();
    await installSnapshotPrerequisites(cluster, SETTINGS);
    const kubeconfig = cluster.writeKubeconfigForToken(await installDeployRbac(cluster));
    admin = new ClientNodeObjectApi(kubeConfigOf(cluster));
    controllers = new SimulatedControllers({
      api: admin,
      model: DEFAULT_LATENCY_MODEL,
      timeScale: 0.002,
      faults: new Set(),
      logger: testLogger('simulated KubeVirt'),
    });
    controllers.start();
    dataDir = mkdtempSync(join(tmpdir(), 'cks-lab-kube-mode-'));
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn(join(REPO_ROOT, 'node_modules/.bin/next'), ['start', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: WEB,
      env: { ...process.env, LAB_CLUSTER: 'kube', KUBECONFIG: kubeconfig, LAB_DATA_DIR: dataDir, ADMIN_TOKEN, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const deadline = Date.now() + 60_000;
    let last = '';
    for (;;) {
      const health = await fetch(`${url}/api/health`)
        .then(async (r) => {
          last = `${r.status} ${await r.text()}`;
          return JSON.parse(last.slice(4)) as { ok: boolean; mode?: string };
        })
        .catch((error: unknown) => {
          last ||= String(error);
          return null;
        });
      if (health?.ok) {
        expect(health.mode).toBe('kubernetes');
        break;
      }
      if (Date.now() > deadline) throw new Error(`the server did not become healthy within 60 s: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 180_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    controllers?.stop();
    admin?.close();
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('says it runs on Kubernetes, not a simulation, and passes the preflight', async () => {
    const info = await fetch(`${url}/api/trpc/cluster.info`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then(
      (r) => r.json() as Promise<{ result: { data: any } }>,
    );
    expect(info.result.data.simulated).toBe(false);
    expect(info.result.data.preflight.snapshotSupported).toBe(true);
  });

  it('runs a session by bootstrap, builds a golden image from it, then a session by snapshot', async () => {
    const first = await lab('sessions', 'create', '--wait');
    expect(first.status).toBe('running');
    expect(first.strategy).toBe('bootstrap');
    expect(first.objects.filter((o: { kind: string }) => o.kind === 'VirtualMachine')).toHaveLength(2);

    const golden = await lab('snapshots', 'create', first.id);
    expect(golden.status).toBe('ready');
    expect(golden.disks.map((d: { phase: string }) => d.phase)).toEqual(['Succeeded', 'Succeeded']);

    const second = await lab('sessions', 'create', '--wait');
    expect(second.status).toBe('running');
    expect(second.strategy).toBe('snapshot');
    expect(second.fallbackReason).toBeNull();

    const metrics = await lab('metrics');
    // Strategies that ran (the warm pool is off on a cluster, so `warm` has none).
    const ran = metrics.strategies.filter((s: { successes: number }) => s.successes > 0);
    expect(ran.map((s: { strategy: string; successes: number }) => [s.strategy, s.successes])).toEqual([
      ['snapshot', 1],
      ['bootstrap', 1],
    ]);
  }, 300_000);
});
