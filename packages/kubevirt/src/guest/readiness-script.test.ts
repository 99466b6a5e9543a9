import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlPlaneReadyScript, workerReadyScript } from './readiness-script';
import { shellcheck, toolAvailable } from './tools-for-tests';

/**
 * The readiness scripts run by the real shell against a fake kubectl that answers from Kubernetes
 * objects (JSON fixtures) and evaluates the script's own jsonpath templates with the real kubectl,
 * offline (`kubectl label --local`). So the scripts' parsing, time comparisons and jsonpath are
 * all exercised without an API server; a test with a real API server belongs to the integration
 * tier (KUBECTL, KUBECONFIG and BOOT_TIME make it possible).
 */
const FAKE_KUBECTL = `#!/bin/sh
fail() { echo "fake kubectl: $*" >&2; exit 3; }
[ "$1" = --kubeconfig ] && [ "$2" = "$EXPECT_KUBECONFIG" ] || fail "wrong kubeconfig: $*"
shift 2
case "$1" in --request-timeout=*) shift ;; *) fail "unbounded call: $*" ;; esac
namespace=
if [ "$1" = -n ]; then namespace=$2; shift 2; fi
[ "$1" = get ] || fail "unexpected call: $*"
shift
if [ "$1" = --raw ]; then
  [ -f "$FAKE_DIR/readyz" ] || { echo "The connection to the server was refused" >&2; exit 1; }
  cat "$FAKE_DIR/readyz"
  exit 0
fi
case "$1" in node | nodes) resource=nodes ;; lease | leases) resource=leases ;; pod | pods) resource=pods ;; *) fail "unexpected resource $1" ;; esac
shift
name=
[ "$1" = -o ] || { name=$1; shift; }
[ "$1" = -o ] || fail "no output format"
template=\${2#jsonpath=}
dir="$FAKE_DIR/$resource\${namespace:+-$namespace}"
render() { "$REAL_KUBECTL" label --local -f "$1" cks-lab-fake=1 -o "jsonpath=$2"; }
if [ -n "$name" ]; then
  [ -f "$dir/$name.json" ] || { echo "Error from server (NotFound): $resource \\"$name\\" not found" >&2; exit 1; }
  render "$dir/$name.json" "$template"
  exit
fi
inner=\${template#'{range .items[*]}'}
inner=\${inner%'{end}'}
[ "$inner" != "$template" ] || fail "list query without {range .items[*]}: $template"
for object in "$dir"/*.json; do
  [ -e "$object" ] || continue
  render "$object" "$inner" || exit
done
`;

const BOOT = 1_700_000_000; // 2023-11-14T22:13:20Z
const AFTER_BOOT = '2023-11-14T22:14:00.123456Z';
const BEFORE_BOOT = '2023-11-14T22:10:00.000000Z';

type Fixtures = Record<string, unknown>;

const node = (name: string, ready: 'True' | 'False' | null = 'True') => ({
  [`nodes/${name}.json`]: {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, ...(ready ? [{ type: 'Ready', status: ready }] : [])] },
  },
});
const lease = (name: string, renewTime: string) => ({
  [`leases-kube-node-lease/${name}.json`]: {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, renewTime },
  },
});
const pod = (namespace: string, name: string, phase: string, ready: 'True' | 'False' | null, startedAt: string[]) => ({
  [`pods-${namespace}/${name}.json`]: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    status: {
      phase,
      conditions: ready ? [{ type: 'Ready', status: ready }] : [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: startedAt.map((time, i) => ({
        name: `c${i}`,
        state: time ? { running: { startedAt: time } } : { waiting: { reason: 'ContainerCreating' } },
      })),
    },
  },
});

const healthyCluster: Fixtures = {
  readyz: 'ok',
  ...node('controlplane'),
  ...node('node01'),
  ...lease('controlplane', AFTER_BOOT),
  ...lease('node01', '2023-11-14T22:14:05.000000Z'),
  ...pod('kube-system', 'coredns-1', 'Running', 'True', ['2023-11-14T22:13:40Z']),
  ...pod('kube-system', 'kube-proxy-a', 'Running', 'True', ['2023-11-14T22:13:30Z']),
  ...pod('kube-system', 'old-job', 'Succeeded', 'False', []),
  ...pod('calico-system', 'calico-node-a', 'Running', 'True', ['2023-11-14T22:13:50Z', '2023-11-14T22:13:55Z']),
};

/**
 * Runs a readiness script with the fake kubectl answering from `fixtures` (a missing one is "not
 * found"); `$FAKE_DIR` in an `env` value stands for the fixtures' directory.
 */
function runScript(
  script: string,
  fixtures: Fixtures,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ status: number; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'cks-lab-ready-'));
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: 0o755 });
  };
  write('kubectl', FAKE_KUBECTL);
  write('kubeconfig', 'apiVersion: v1\nkind: Config\n');
  write('answers/.keep', '');
  for (const [path, value] of Object.entries(fixtures)) write(`answers/${path}`, typeof value === 'string' ? value : JSON.stringify(value));
  const environment = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    KUBECTL: join(dir, 'kubectl'),
    KUBECONFIG: join(dir, 'kubeconfig'),
    EXPECT_KUBECONFIG: join(dir, 'kubeconfig'),
    REAL_KUBECTL: 'kubectl',
    FAKE_DIR: join(dir, 'answers'),
    BOOT_TIME: String(BOOT),
    ...Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value.replaceAll('$FAKE_DIR', join(dir, 'answers'))])),
  };
  return new Promise((resolve) => {
    execFile('sh', ['-c', script, 'cks-lab-ready', ...args], { env: environment, encoding: 'utf8' }, (error, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const without = (fixtures: Fixtures, ...paths: string[]) =>
  Object.fromEntries(Object.entries(fixtures).filter(([path]) => !paths.includes(path)));

describe.runIf(toolAvailable('shellcheck'))('readiness scripts', () => {
  it('pass shellcheck as POSIX sh', () => {
    expect(shellcheck(controlPlaneReadyScript, 'sh')).toBe('');
    expect(shellcheck(workerReadyScript, 'sh')).toBe('');
  });
});

describe.runIf(toolAvailable('kubectl')).concurrent('control-plane readiness script', () => {
  const check = (fixtures: Fixtures = healthyCluster, args: string[] = [], env: Record<string, string> = {}) =>
    runScript(controlPlaneReadyScript, fixtures, args, env);

  it('passes on a ready cluster', async () => {
    expect(await check()).toEqual({ status: 0, output: 'ready: 2 nodes\n' });
  });

  it('fails while the API server is not ready', async () => {
    expect(await check({ ...healthyCluster, readyz: '[-]etcd failed: reason withheld\nreadyz check failed' })).toMatchObject({
      status: 1,
      output: expect.stringMatching(/^not ready: API server \/readyz: \[-\]etcd failed/),
    });
    expect(await check(without(healthyCluster, 'readyz'))).toMatchObject({
      status: 1,
      output: expect.stringMatching(/^not ready: API server: The connection/),
    });
  });

  it('fails on a lease left over from before the boot (a restored etcd says Ready for a while)', async () => {
    expect(await check({ ...healthyCluster, ...lease('node01', BEFORE_BOOT) })).toEqual({
      status: 1,
      output: `not ready: node node01: lease not renewed since boot (last ${BEFORE_BOOT})\n`,
    });
    expect(await check(without(healthyCluster, 'leases-kube-node-lease/node01.json'))).toEqual({
      status: 1,
      output: 'not ready: node node01 has no lease\n',
    });
  });

  it('fails on a node that is not Ready or has no Ready condition yet', async () => {
    expect(await check({ ...healthyCluster, ...node('node01', 'False') })).toEqual({
      status: 1,
      output: 'not ready: node node01 is not Ready\n',
    });
    expect(await check({ ...healthyCluster, ...node('node01', null) })).toEqual({
      status: 1,
      output: 'not ready: node node01 is not Ready\n',
    });
  });

  it('counts nodes against the expected number (argument, default 2)', async () => {
    const oneNode = without(healthyCluster, 'nodes/node01.json', 'leases-kube-node-lease/node01.json');
    expect(await check(oneNode)).toEqual({ status: 1, output: 'not ready: 1 of 2 nodes\n' });
    expect(await check(oneNode, ['1'])).toEqual({ status: 0, output: 'ready: 1 nodes\n' });
    expect(await check(healthyCluster, ['3'])).toEqual({ status: 1, output: 'not ready: 2 of 3 nodes\n' });
    expect(await check(healthyCluster, ['two'])).toMatchObject({ status: 1, output: expect.stringMatching(/is not a number/) });
  });

  it('fails on a system pod that is not Ready, not running yet, or whose status predates the boot', async () => {
    expect(await check({ ...healthyCluster, ...pod('kube-system', 'coredns-1', 'Running', 'False', ['2023-11-14T22:13:40Z']) })).toEqual({
      status: 1,
      output: 'not ready: pod kube-system/coredns-1 is not Ready\n',
    });
    expect(await check({ ...healthyCluster, ...pod('kube-system', 'coredns-1', 'Pending', null, ['']) })).toEqual({
      status: 1,
      output: 'not ready: pod kube-system/coredns-1 is not Ready\n',
    });
    expect(
      await check({
        ...healthyCluster,
        ...pod('calico-system', 'calico-node-a', 'Running', 'True', ['2023-11-14T22:13:50Z', '2023-11-14T22:00:00Z']),
      }),
    ).toEqual({
      status: 1,
      output: 'not ready: pod calico-system/calico-node-a: status from before boot\n',
    });
  });

  it('fails until the CNI namespace has pods at all, and checks the namespaces READY_NAMESPACES names', async () => {
    const noCni = without(healthyCluster, 'pods-calico-system/calico-node-a.json');
    expect(await check(noCni)).toEqual({ status: 1, output: 'not ready: no pods in calico-system yet\n' });
    expect(await check(noCni, [], { READY_NAMESPACES: 'kube-system' })).toEqual({ status: 0, output: 'ready: 2 nodes\n' });
  });
});

describe.runIf(toolAvailable('kubectl')).concurrent('worker readiness script', () => {
  const worker: Fixtures = { healthz: 'ok', ...node('node01'), ...lease('node01', AFTER_BOOT) };
  // The kubelet's healthz is read with curl; a file:// URL into the fixtures stands in for it.
  const healthz = (fixtures: Fixtures, env: Record<string, string> = {}) =>
    runScript(workerReadyScript, fixtures, [], { NODE_NAME: 'node01', KUBELET_HEALTHZ_URL: 'file://$FAKE_DIR/healthz', ...env });

  it('passes when the kubelet is healthy and the node joined, is Ready and renews its lease', async () => {
    expect(await healthz(worker)).toEqual({ status: 0, output: 'ready: node node01\n' });
  });

  it('fails before the join', async () => {
    expect(await healthz(worker, { KUBECONFIG: '/nonexistent/kubelet.conf' })).toMatchObject({
      status: 1,
      output: expect.stringMatching(/^not ready: not joined/),
    });
    expect(await healthz(without(worker, 'nodes/node01.json'))).toMatchObject({
      status: 1,
      output: expect.stringMatching(/^not ready: node node01 not registered/),
    });
  });

  it('fails while the kubelet is unhealthy', async () => {
    expect(await healthz({ ...worker, healthz: 'failed' })).toEqual({ status: 1, output: 'not ready: kubelet healthz: failed\n' });
    expect(await healthz(without(worker, 'healthz'))).toMatchObject({
      status: 1,
      output: expect.stringMatching(/^not ready: kubelet: curl/),
    });
  });

  it('fails on a NotReady node or a lease from before the boot', async () => {
    expect(await healthz({ ...worker, ...node('node01', 'False') })).toEqual({
      status: 1,
      output: 'not ready: node node01 is not Ready\n',
    });
    expect(await healthz({ ...worker, ...lease('node01', BEFORE_BOOT) })).toEqual({
      status: 1,
      output: `not ready: node node01: lease not renewed since boot (last ${BEFORE_BOOT})\n`,
    });
  });
});
