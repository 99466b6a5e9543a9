/**
 * A real, throw-away Kubernetes control plane for the integration test tier (docs/architecture.md#tests):
 * etcd + kube-apiserver + kube-controller-manager (namespace, garbage-collector, service-account
 * and service-account-token controllers) on loopback, with the third-party CRDs from
 * ../shared/crds installed.
 *
 * The binaries are built from their Go modules by test/infra/build-test-binaries.sh (Go is used
 * only for that); this module finds them through `current.env` in the cache or through the
 * KUBE_APISERVER / KUBE_CONTROLLER_MANAGER / ETCD environment variables.
 *
 * TLS is real everywhere a client talks to the API server: a fresh CA per cluster, a serving
 * certificate for 127.0.0.1/localhost, an admin client certificate (O=system:masters); every
 * client here verifies the server against that CA.
 *
 * Node built-ins plus js-yaml only.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dump as yamlDump, loadAll as yamlLoadAll } from 'js-yaml';

const execFileAsync = promisify(execFile);

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** /work/main when this file is /work/main/test/infra/cluster.ts */
export const REPO_ROOT = path.resolve(HERE, '..', '..');
/** Default folder of the official third-party CRDs: <repoRoot>/../shared/crds */
export const DEFAULT_CRDS_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'crds');

const BUILD_HINT = 'run test/infra/build-test-binaries.sh (needs Go)';

// ------------------------------------------------------------------------------------------------
// Binaries
// ------------------------------------------------------------------------------------------------

export interface TestBinaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  /** Kubernetes release the binaries were built from (K8S_TEST_VERSION), e.g. "v1.35.4". */
  version: string;
  /** etcd release (ETCD_TEST_VERSION), when known. */
  etcdVersion?: string;
}

export function cacheRoot(): string {
  return process.env.CKS_LAB_CACHE || path.join(os.homedir(), '.cache', 'cks-lab');
}

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if (value.length >= 2 && (value[0] === "'" || value[0] === '"') && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    out[m[1]!] = value;
  }
  return out;
}

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, fsConstants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Locates the test binaries. Environment variables (KUBE_APISERVER, KUBE_CONTROLLER_MANAGER, ETCD,
 * K8S_TEST_VERSION) override the values of `${CKS_LAB_CACHE:-~/.cache/cks-lab}/current.env`,
 * which build-test-binaries.sh writes. Returns `{ missing }` with a human-readable reason when
 * something is not there.
 */
export function findTestBinaries(): TestBinaries | { missing: string } {
  const envFile = path.join(cacheRoot(), 'current.env');
  let fromFile: Record<string, string> = {};
  let fileProblem = '';
  try {
    fromFile = parseEnvFile(readFileSync(envFile, 'utf8'));
  } catch {
    fileProblem = `${envFile} does not exist`;
  }
  const pick = (key: string): string | undefined => process.env[key] || fromFile[key] || undefined;
  const wanted: Array<[keyof TestBinaries, string]> = [
    ['kubeApiserver', 'KUBE_APISERVER'],
    ['kubeControllerManager', 'KUBE_CONTROLLER_MANAGER'],
    ['etcd', 'ETCD'],
  ];
  const problems: string[] = [];
  const unset: string[] = [];
  const found: Partial<TestBinaries> = {};
  for (const [field, key] of wanted) {
    const p = pick(key);
    if (!p) unset.push(key);
    else if (!isExecutable(p)) problems.push(`${key}=${p} is not an executable file`);
    else (found as Record<string, string>)[field] = p;
  }
  if (unset.length > 0) {
    problems.unshift(
      `${fileProblem || `${envFile} lacks ${unset.join(', ')}`} and ${unset.join(', ')} ${unset.length > 1 ? 'are' : 'is'} not set`,
    );
  }
  if (problems.length > 0) {
    return { missing: `kube-apiserver/etcd test binaries not found (${problems.join('; ')}): ${BUILD_HINT}` };
  }
  return {
    kubeApiserver: found.kubeApiserver!,
    kubeControllerManager: found.kubeControllerManager!,
    etcd: found.etcd!,
    version: pick('K8S_TEST_VERSION') ?? 'unknown',
    etcdVersion: pick('ETCD_TEST_VERSION'),
  };
}

// ------------------------------------------------------------------------------------------------
// Public types
// ------------------------------------------------------------------------------------------------

export interface StartTestClusterOptions {
  /** Folder of CRD *.yaml files to install. Default: <repoRoot>/../shared/crds (skipped with a
   * warning when that default folder is absent). `false` installs none. */
  crdsDir?: string | false;
  /** Where process logs go. Default: <dataDir>/logs (removed by stop()). A given logDir is kept. */
  logDir?: string;
  /** Binaries to use; default findTestBinaries(). */
  binaries?: TestBinaries;
  /** Deadline for the whole start-up (each wait gets this as its upper bound). Default 120 s. */
  startTimeoutMs?: number;
  /** Extra kube-apiserver flags (appended, so they win over defaults). */
  apiServerArgs?: string[];
  /** Extra kube-controller-manager flags. */
  controllerManagerArgs?: string[];
}

export interface RequestOptions {
  /** Content-Type of the body. Default application/json (use application/merge-patch+json etc. for PATCH). */
  contentType?: string;
  /** Authenticate with this bearer token instead of the admin client certificate. */
  token?: string;
  /** Per-request deadline. Default 30 s. */
  timeoutMs?: number;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export interface KubeResponse<T = any> {
  status: number;
  /** 2xx */
  ok: boolean;
  /** Parsed JSON when the response is JSON, else the raw text. */
  body: T;
  text: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestClusterTimings {
  certsMs: number;
  etcdReadyMs: number;
  /** kube-apiserver spawn -> /readyz 200 (first start). */
  apiServerReadyMs: number;
  /** last startApiServer() spawn -> /readyz 200. */
  lastApiServerReadyMs: number;
  controllerManagerReadyMs: number;
  crdsMs: number;
  totalMs: number;
}

/** A long-running process tied to a test cluster: stopped with it, and killed by its watchdog when
 * the test process dies. */
export interface ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  /** Set once the process has exited (until the next start()). */
  readonly exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** (Re)starts it with the same arguments and environment. */
  start(): void;
  /** Sends `signal` (default SIGTERM), SIGKILL after `graceMs` (default 10 s); resolves when it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface ProcessSpec {
  name: string;
  bin: string;
  args: string[];
  /** Added to this process's environment. */
  env?: Record<string, string>;
}

/** Certificate and key files (PEM) issued by the test cluster's CA. */
export interface IssuedCertificate {
  cert: string;
  key: string;
}

export interface TestCluster {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  caPem: string;
  /** gitVersion reported by /version */
  version: string;
  dataDir: string;
  logDir: string;
  /** Names of the CRDs that were installed and are Established. */
  crds: string[];
  timings: TestClusterTimings;
  /** Typed HTTPS JSON request as admin (client cert) or with `opts.token`. Never throws on HTTP
   * status; throws on connection errors and timeouts. */
  request<T = any>(method: string, urlPath: string, body?: unknown, opts?: RequestOptions): Promise<KubeResponse<T>>;
  /** TokenRequest for an existing ServiceAccount; returns the token. */
  createServiceAccountToken(namespace: string, name: string, audiences?: string[]): Promise<string>;
  /** Writes a kubeconfig (CA + bearer token) into the data dir and returns its path. */
  writeKubeconfigForToken(token: string): string;
  /** REST path of a kind via discovery, e.g. ('kubevirt.io/v1','VirtualMachine','ns') ->
   * /apis/kubevirt.io/v1/namespaces/ns/virtualmachines */
  resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): Promise<string>;
  /** The cluster CA's certificate and key files: it signs every serving and client certificate here. */
  ca: { cert: string; key: string };
  /** A certificate signed by the cluster CA: for `server` use with the given IP/DNS names, or a
   * `client` certificate whose CN/O the API server maps to a user and groups. */
  issueCertificate(
    name: string,
    spec: { commonName: string; organization?: string; usage: 'server' | 'client'; ips?: string[]; dnsNames?: string[] },
  ): Promise<IssuedCertificate>;
  /** Starts a process that lives as long as this cluster; its output goes to <logDir>/<name>.log. */
  spawnProcess(spec: ProcessSpec): ManagedProcess;
  /** SIGKILLs kube-apiserver (etcd and the controller manager keep running). */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again with the same flags, etcd and port; resolves when /readyz is 200
   * and every installed CRD can be listed (until then the server answers 429 "storage is
   * (re)initializing" for custom resources). */
  startApiServer(): Promise<void>;
  /** Stops controller-manager, apiserver and etcd (SIGTERM, SIGKILL after a deadline) and removes the data dir. */
  stop(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves true when `p` settles first, false after `ms`; the timer never outlives the race. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; ports.size < n && i < 50; i++) ports.add(await freePort());
  if (ports.size < n) throw new Error('could not allocate distinct free ports');
  return [...ports];
}

function tailOf(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return `(no log at ${file})`;
  }
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, timeout: 30_000 });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr || err.message}`);
  }
}

interface Pki {
  caCert: string;
  caKey: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  frontProxyCert: string;
  frontProxyKey: string;
  saKey: string;
  saPub: string;
}

const clientCertExtensions = () => [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, keyEncipherment',
  'extendedKeyUsage = clientAuth',
];

const servingCertExtensions = (ips: string[], dnsNames: string[]) => [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature, keyEncipherment',
  'extendedKeyUsage = serverAuth',
  `subjectAltName = ${[...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((d) => `DNS:${d}`)].join(', ')}`,
];

/** An EC P-256 key and a 3-day certificate for it signed by `dir`'s ca.crt/ca.key. */
async function issueLeaf(dir: string, name: string, subject: string, ext: string[]): Promise<IssuedCertificate> {
  const p = (f: string) => path.join(dir, f);
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(`${name}.key`)], dir);
  await openssl(['req', '-new', '-key', p(`${name}.key`), '-subj', subject, '-out', p(`${name}.csr`)], dir);
  writeFileSync(p(`${name}.ext`), `${ext.join('\n')}\n`);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      p(`${name}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-set_serial',
      `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
      '-days',
      '3',
      '-sha256',
      '-extfile',
      p(`${name}.ext`),
      '-out',
      p(`${name}.crt`),
    ],
    dir,
  );
  return { cert: p(`${name}.crt`), key: p(`${name}.key`) };
}

/** CA, serving cert (127.0.0.1, localhost), admin and front-proxy client certs, SA key pair. */
async function generatePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => path.join(dir, f);
  const ecKey = (out: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out], dir);

  await ecKey(p('ca.key'));
  writeFileSync(
    p('ca.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      'x509_extensions = v3_ca',
      '[dn]',
      'CN = cks-lab-test-ca',
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await openssl(['req', '-x509', '-new', '-key', p('ca.key'), '-config', p('ca.cnf'), '-days', '3', '-out', p('ca.crt')], dir);

  const leaf = (name: string, subject: string, ext: string[]) => issueLeaf(dir, name, subject, ext);
  await leaf('serving', '/CN=kube-apiserver', servingCertExtensions(['127.0.0.1'], ['localhost']));
  await leaf('admin', '/O=system:masters/CN=cks-lab-test-admin', clientCertExtensions());
  // The aggregation layer's client identity: extension API servers (virt-api) trust requests
  // proxied with this certificate and the X-Remote-* headers.
  await leaf('front-proxy-client', '/CN=front-proxy-client', clientCertExtensions());
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', p('sa.key')], dir);
  await openssl(['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')], dir);
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    servingCert: p('serving.crt'),
    servingKey: p('serving.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    frontProxyCert: p('front-proxy-client.crt'),
    frontProxyKey: p('front-proxy-client.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
  };
}

function kubeconfigYaml(server: string, caPem: string, user: Record<string, string>): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return yamlDump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'cks-lab-test', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: 'cks-lab-test-user', user }],
    contexts: [{ name: 'cks-lab-test', context: { cluster: 'cks-lab-test', user: 'cks-lab-test-user' } }],
    'current-context': 'cks-lab-test',
    preferences: {},
  });
}

// ------------------------------------------------------------------------------------------------
// Process bookkeeping and cleanup on exit
// ------------------------------------------------------------------------------------------------

interface Managed {
  name: string;
  bin: string;
  args: string[];
  logFile: string;
  child?: ChildProcess;
  exited?: { code: number | null; signal: NodeJS.Signals | null };
}

interface Live {
  procs: Managed[];
  dataDir: string;
  removeDataDir: boolean;
  watchdog?: ChildProcess;
}

const liveClusters = new Set<Live>();
let exitHooksInstalled = false;

/** Synchronous last-resort cleanup (process 'exit' or a fatal signal). */
function killAllSync(): void {
  for (const live of liveClusters) {
    for (const m of [...live.procs].reverse()) {
      if (m.child?.pid && !m.exited) {
        try {
          process.kill(m.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    if (live.watchdog?.pid) {
      try {
        process.kill(live.watchdog.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (live.removeDataDir) {
      try {
        rmSync(live.dataDir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
  }
  liveClusters.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      killAllSync();
      process.removeListener(sig, handler);
      // Keep the default behaviour (terminate) unless someone else handles the signal.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/**
 * A detached shell that outlives a SIGKILLed test process: once this Node process is gone it kills
 * the pids listed in <dataDir>/pids (only if their command line still mentions the data dir, so a
 * recycled pid is never hit) and removes the data dir.
 */
function startWatchdog(live: Live, pidFile: string): ChildProcess {
  const script = `
    parent="$1"; dir="$2"; pidfile="$3"; rmdir_flag="$4"
    while kill -0 "$parent" 2>/dev/null; do sleep 2; done
    if [ -f "$pidfile" ]; then
      for pid in $(cat "$pidfile"); do
        if [ -r "/proc/$pid/cmdline" ] && tr '\\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$dir"; then
          kill -9 "$pid" 2>/dev/null || true
        fi
      done
    fi
    if [ "$rmdir_flag" = 1 ]; then rm -rf -- "$dir"; fi
  `;
  const child = spawn(
    '/bin/sh',
    ['-c', script, 'cks-lab-cluster-watchdog', String(process.pid), live.dataDir, pidFile, live.removeDataDir ? '1' : '0'],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  return child;
}

// ------------------------------------------------------------------------------------------------
// The parts of a start: processes, API client, certificates, kubeconfig, etcd, kube-apiserver,
// CRDs, kube-controller-manager, and the handle the tests get
// ------------------------------------------------------------------------------------------------

/** Starting, stopping and failing the cluster's processes, which the watchdog knows by pid. */
interface ProcessGroup {
  spawn(m: Managed, env?: Record<string, string>): void;
  stop(m: Managed, signal: NodeJS.Signals, graceMs: number): Promise<void>;
  /** Stops every process (last started first), runs the `onStop` hooks and removes the data dir. */
  stopAll(): Promise<void>;
  readonly stopped: boolean;
  onStop(hook: () => void): void;
  /** Stops everything and throws, with the last lines of `m`'s log. */
  failWith(what: string, m: Managed | undefined, cause?: unknown): Promise<never>;
}

function processGroup(live: Live, pidFile: string, keep: boolean): ProcessGroup {
  const stopHooks: Array<() => void> = [];
  let stopped = false;

  const writePids = () => writeFileSync(pidFile, live.procs.map((m) => (m.child?.pid && !m.exited ? `${m.child.pid}\n` : '')).join(''));

  const spawnManaged = (m: Managed, env: Record<string, string> = {}): void => {
    const fd = openSync(m.logFile, 'a');
    writeSync(fd, `\n===== ${new Date().toISOString()} starting ${m.bin} ${m.args.join(' ')}\n`);
    m.exited = undefined;
    const child = spawn(m.bin, m.args, { cwd: live.dataDir, stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    closeSync(fd);
    m.child = child;
    child.on('exit', (code, signal) => {
      m.exited = { code, signal };
      try {
        writePids();
      } catch {
        /* data dir may be gone */
      }
    });
    child.on('error', (err) => {
      m.exited = { code: -1, signal: null };
      try {
        writeFileSync(m.logFile, `\nspawn error: ${err.message}\n`, { flag: 'a' });
      } catch {
        /* ignore */
      }
    });
    writePids();
  };

  const stopManaged = async (m: Managed, signal: NodeJS.Signals, graceMs: number): Promise<void> => {
    const child = m.child;
    if (!child || m.exited || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
    if (!(await settlesWithin(exited, graceMs)) && !m.exited) {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
      await settlesWithin(exited, 5_000);
    }
  };

  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const m of [...live.procs].reverse()) await stopManaged(m, 'SIGTERM', 10_000);
    for (const hook of stopHooks) hook();
    if (live.watchdog?.pid) {
      try {
        process.kill(live.watchdog.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    liveClusters.delete(live);
    if (!keep) rmSync(live.dataDir, { recursive: true, force: true });
  };

  return {
    spawn: spawnManaged,
    stop: stopManaged,
    stopAll,
    get stopped() {
      return stopped;
    },
    onStop: (hook) => stopHooks.push(hook),
    async failWith(what, m, cause) {
      const status = m?.exited ? ` (${m.name} exited: code ${m.exited.code}, signal ${m.exited.signal})` : '';
      const logs = m ? `\n--- last lines of ${m.logFile} ---\n${tailOf(m.logFile)}` : '';
      const causeText = cause ? `: ${(cause as Error).message ?? String(cause)}` : '';
      await stopAll().catch(() => undefined);
      throw new Error(`test cluster: ${what}${status}${causeText}${logs}`);
    },
  };
}

/** HTTPS to the API server as admin (client certificate) or with a bearer token, over pooled connections. */
interface ApiClient {
  request: TestCluster['request'];
  mustOk<T = any>(method: string, urlPath: string, body?: unknown, ro?: RequestOptions): Promise<T>;
  /** Drops pooled connections (to a server that was killed). */
  resetConnections(): void;
  destroy(): void;
}

function apiClient(server: string, caPem: string, adminCertPem: string, adminKeyPem: string): ApiClient {
  let adminAgent!: https.Agent;
  let tokenAgent!: https.Agent;
  const makeAgents = () => {
    adminAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: caPem, cert: adminCertPem, key: adminKeyPem });
    tokenAgent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: caPem });
  };
  makeAgents();
  const destroy = () => {
    adminAgent.destroy();
    tokenAgent.destroy();
  };

  const request = <T = any>(method: string, urlPath: string, body?: unknown, ropts: RequestOptions = {}): Promise<KubeResponse<T>> => {
    const url = new URL(urlPath, server);
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...(ropts.headers ?? {}) };
    if (payload !== undefined) {
      headers['Content-Type'] = ropts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    if (ropts.token) headers.Authorization = `Bearer ${ropts.token}`;
    const timeoutMs = ropts.timeoutMs ?? 30_000;
    return new Promise<KubeResponse<T>>((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: ropts.token ? tokenAgent : adminAgent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text) {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          const status = res.statusCode ?? 0;
          resolve({ status, ok: status >= 200 && status < 300, body: parsed as T, text, headers: res.headers });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath} timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  };

  return {
    request,
    async mustOk<T = any>(method: string, urlPath: string, body?: unknown, ro?: RequestOptions): Promise<T> {
      const r = await request<T>(method, urlPath, body, ro);
      if (!r.ok) throw new Error(`${method} ${urlPath} -> ${r.status}: ${r.text.slice(0, 2000)}`);
      return r.body;
    },
    resetConnections() {
      destroy();
      makeAgents();
    },
    destroy,
  };
}

function plainGet(url: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function httpsGet(url: string, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca: caPem, timeout: 5_000, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** What the parts of a start share. */
interface Startup {
  opts: StartTestClusterOptions;
  bins: TestBinaries;
  dataDir: string;
  logDir: string;
  live: Live;
  processes: ProcessGroup;
  timings: TestClusterTimings;
  /** What is left of the start-up budget, at least a second. */
  remaining(): number;
  /** Polls `check` until it returns a truthy value, `watch` dies, or the deadline passes. */
  waitFor<T>(
    what: string,
    deadlineMs: number,
    check: () => Promise<T | undefined | false>,
    watch?: Managed,
    intervalMs?: number,
  ): Promise<T>;
}

/** A process of the cluster, logging to <logDir>/<name>.log, known to the watchdog. */
function managed(s: Startup, name: string, bin: string, args: string[]): Managed {
  const m: Managed = { name, bin, args, logFile: path.join(s.logDir, `${name}.log`) };
  s.live.procs.push(m);
  return m;
}

/** The admin's kubeconfig (client certificate), for the controller manager and the tests. */
function writeAdminKubeconfig(dataDir: string, server: string, caPem: string, certPem: string, keyPem: string): string {
  const kubeconfigPath = path.join(dataDir, 'admin.kubeconfig');
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  writeFileSync(
    kubeconfigPath,
    kubeconfigYaml(server, caPem, { 'client-certificate-data': b64(certPem), 'client-key-data': b64(keyPem) }),
    {
      mode: 0o600,
    },
  );
  return kubeconfigPath;
}

async function startEtcd(s: Startup, etcdUrl: string, peerPort: number): Promise<void> {
  const etcd = managed(s, 'etcd', s.bins.etcd, [
    '--name=cks-lab-test',
    `--data-dir=${path.join(s.dataDir, 'etcd')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=cks-lab-test=http://127.0.0.1:${peerPort}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync=true', // throw-away data: skip fsync for speed
    '--quota-backend-bytes=2147483648',
    '--log-level=warn',
  ]);
  const started = Date.now();
  s.processes.spawn(etcd);
  await s.waitFor(
    'etcd /health',
    Math.min(30_000, s.remaining()),
    async () => {
      const r = await plainGet(`${etcdUrl}/health`);
      return r.status === 200 && /"health":\s*"true"/.test(r.text);
    },
    etcd,
  );
  s.timings.etcdReadyMs = Date.now() - started;
}

interface KubeApiServer {
  process: Managed;
  /** Resolves when /readyz answers 200. */
  waitReady(deadlineMs: number): Promise<void>;
}

async function startKubeApiServer(s: Startup, api: ApiClient, pki: Pki, etcdUrl: string, port: number): Promise<KubeApiServer> {
  const apiserver = managed(s, 'kube-apiserver', s.bins.kubeApiserver, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(s.dataDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--enable-priority-and-fairness=false',
    '--profiling=false',
    '--allow-privileged=true',
    // The aggregation layer, so extension API servers (KubeVirt's subresources) can be registered.
    `--requestheader-client-ca-file=${pki.caCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.frontProxyCert}`,
    `--proxy-client-key-file=${pki.frontProxyKey}`,
    // No kube-proxy or service network here: call webhooks and aggregated APIs at their endpoints.
    '--enable-aggregator-routing=true',
    ...(s.opts.apiServerArgs ?? []),
  ]);
  const waitReady = async (deadlineMs: number): Promise<void> => {
    await s.waitFor(
      'kube-apiserver /readyz',
      deadlineMs,
      async () => (await api.request('GET', '/readyz', undefined, { timeoutMs: 5_000 })).status === 200,
      apiserver,
    );
  };
  const started = Date.now();
  s.processes.spawn(apiserver);
  await waitReady(Math.min(90_000, s.remaining()));
  s.timings.apiServerReadyMs = Date.now() - started;
  s.timings.lastApiServerReadyMs = s.timings.apiServerReadyMs;
  return { process: apiserver, waitReady };
}

function spawnControllerManager(s: Startup, pki: Pki, kubeconfigPath: string, port: number): Managed {
  const kcm = managed(s, 'kube-controller-manager', s.bins.kubeControllerManager, [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    // pvc-protection removes the finalizer the API server puts on every PVC: without it a deleted
    // PVC, and so its namespace, never goes away.
    '--controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token,pvc-protection',
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    '--use-service-account-credentials=false',
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${path.join(s.dataDir, 'kcm-certs')}`,
    `--tls-cert-file=${pki.servingCert}`,
    `--tls-private-key-file=${pki.servingKey}`,
    '--profiling=false',
    ...(s.opts.controllerManagerArgs ?? []),
  ]);
  s.processes.spawn(kcm);
  return kcm;
}

/** The controller manager healthy, and its serviceaccount controller working. */
async function waitControllerManager(s: Startup, api: ApiClient, kcm: Managed, port: number, caPem: string): Promise<void> {
  await s.waitFor(
    'kube-controller-manager /healthz',
    Math.min(60_000, s.remaining()),
    async () => (await httpsGet(`https://127.0.0.1:${port}/healthz`, caPem)) === 200,
    kcm,
  );
  await s.waitFor(
    'ServiceAccount vm-templates/default (serviceaccount controller)',
    Math.min(60_000, s.remaining()),
    async () => (await api.request('GET', '/api/v1/namespaces/vm-templates/serviceaccounts/default')).ok,
    kcm,
  );
}

interface InstalledCrds {
  names: string[];
  /** Resolves when every installed CRD can be listed; right after an API server (re)start each
   * answers 429 "storage is (re)initializing" until its watch cache is ready. */
  waitServed(deadlineMs: number): Promise<void>;
  /** When the last one became Established (epoch ms; 0 when none was installed). */
  lastEstablished: number;
}

/** The CRDs of `opts.crdsDir` (default: ../shared/crds), created and Established. */
async function installCrds(s: Startup, api: ApiClient, apiserver: Managed): Promise<InstalledCrds> {
  const started = Date.now();
  const names: string[] = [];
  const served: Array<{ name: string; path: string }> = [];
  const waitServed = async (deadlineMs: number): Promise<void> => {
    const end = Date.now() + deadlineMs;
    for (const c of served) {
      await s.waitFor(`${c.path} served`, Math.max(1_000, end - Date.now()), async () => (await api.request('GET', c.path)).ok, apiserver);
    }
  };
  let lastEstablished = 0;
  const crdsDir = s.opts.crdsDir === undefined ? DEFAULT_CRDS_DIR : s.opts.crdsDir;
  if (crdsDir !== false) {
    if (!existsSync(crdsDir)) {
      if (s.opts.crdsDir !== undefined) return s.processes.failWith(`crdsDir ${crdsDir} does not exist`, undefined);
      console.warn(`[test cluster] ${crdsDir} not found: no third-party CRDs installed`);
    } else {
      const files = readdirSync(crdsDir)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .sort();
      for (const f of files) {
        const docs = yamlLoadAll(await readFile(path.join(crdsDir, f), 'utf8')) as any[];
        for (const doc of docs) {
          if (doc?.kind !== 'CustomResourceDefinition') continue;
          const r = await api.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', doc);
          if (!r.ok && r.status !== 409) {
            return s.processes.failWith(`creating CRD ${doc.metadata?.name} from ${f} -> ${r.status}: ${r.text.slice(0, 1000)}`, apiserver);
          }
          names.push(doc.metadata.name);
          const version = (doc.spec.versions as any[]).find((v) => v.storage)?.name ?? (doc.spec.versions as any[])[0]?.name;
          const plural = doc.spec.names.plural as string;
          served.push({ name: doc.metadata.name, path: `/apis/${doc.spec.group}/${version}/${plural}?limit=1` });
        }
      }
      for (const c of served) {
        await s.waitFor(
          `CRD ${c.name} Established`,
          Math.min(60_000, s.remaining()),
          async () => {
            const r = await api.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${c.name}`);
            const conds = (r.body?.status?.conditions ?? []) as Array<{ type: string; status: string; lastTransitionTime?: string }>;
            const est = conds.find((x) => x.type === 'Established' && x.status === 'True');
            if (est?.lastTransitionTime) lastEstablished = Math.max(lastEstablished, Date.parse(est.lastTransitionTime));
            return !!est;
          },
          apiserver,
        );
      }
      await waitServed(Math.min(60_000, s.remaining()));
    }
  }
  s.timings.crdsMs = Date.now() - started;
  return { names, waitServed, lastEstablished };
}

// ------------------------------------------------------------------------------------------------
// startTestCluster
// ------------------------------------------------------------------------------------------------

export async function startTestCluster(opts: StartTestClusterOptions = {}): Promise<TestCluster> {
  // One retry covers the small race between picking a free port and the server binding it.
  try {
    return await startOnce(opts);
  } catch (e) {
    if (/address already in use/i.test(String((e as Error).message))) return startOnce(opts);
    throw e;
  }
}

async function startOnce(opts: StartTestClusterOptions): Promise<TestCluster> {
  const t0 = Date.now();
  const startDeadline = t0 + (opts.startTimeoutMs ?? 120_000);

  let bins = opts.binaries;
  if (!bins) {
    const found = findTestBinaries();
    if ('missing' in found) throw new Error(found.missing);
    bins = found;
  }

  const keep = !!process.env.CKS_LAB_KEEP_TEST_CLUSTER;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cks-lab-cluster-'));
  const logDir = opts.logDir ? path.resolve(opts.logDir) : path.join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const live: Live = { procs: [], dataDir, removeDataDir: !keep };
  installExitHooks();
  liveClusters.add(live);
  const pidFile = path.join(dataDir, 'pids');
  writeFileSync(pidFile, '');
  live.watchdog = startWatchdog(live, pidFile);
  const processes = processGroup(live, pidFile, keep);

  const s: Startup = {
    opts,
    bins,
    dataDir,
    logDir,
    live,
    processes,
    timings: {
      certsMs: 0,
      etcdReadyMs: 0,
      apiServerReadyMs: 0,
      lastApiServerReadyMs: 0,
      controllerManagerReadyMs: 0,
      crdsMs: 0,
      totalMs: 0,
    },
    remaining: () => Math.max(1_000, startDeadline - Date.now()),
    async waitFor(what, deadlineMs, check, watch, intervalMs = 200) {
      const end = Date.now() + deadlineMs;
      let last: unknown;
      for (;;) {
        if (watch?.exited) return processes.failWith(`${watch.name} exited while waiting for ${what}`, watch);
        try {
          const v = await check();
          if (v) return v;
        } catch (e) {
          last = e;
        }
        if (Date.now() >= end) return processes.failWith(`timed out after ${deadlineMs} ms waiting for ${what}`, watch, last);
        await sleep(intervalMs);
      }
    },
  };
  const { timings } = s;

  let pki: Pki;
  try {
    pki = await generatePki(path.join(dataDir, 'pki'));
  } catch (e) {
    return processes.failWith('generating certificates with openssl failed', undefined, e);
  }
  timings.certsMs = Date.now() - t0;
  const caPem = readFileSync(pki.caCert, 'utf8');
  const adminCertPem = readFileSync(pki.adminCert, 'utf8');
  const adminKeyPem = readFileSync(pki.adminKey, 'utf8');

  const [etcdClientPort, etcdPeerPort, apiPort, kcmPort] = (await freePorts(4)) as [number, number, number, number];
  const server = `https://127.0.0.1:${apiPort}`;
  const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
  const api = apiClient(server, caPem, adminCertPem, adminKeyPem);
  processes.onStop(() => api.destroy());
  const kubeconfigPath = writeAdminKubeconfig(dataDir, server, caPem, adminCertPem, adminKeyPem);

  await startEtcd(s, etcdUrl, etcdPeerPort);
  const apiserver = await startKubeApiServer(s, api, pki, etcdUrl, apiPort);
  const versionInfo = await api.mustOk<{ gitVersion: string }>('GET', '/version');

  const kcmStarted = Date.now();
  const kcm = spawnControllerManager(s, pki, kubeconfigPath, kcmPort);
  // Installed while the controller manager starts.
  const crds = await installCrds(s, api, apiserver.process);
  const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'vm-templates' } });
  if (!ns.ok && ns.status !== 409)
    return processes.failWith(`creating namespace vm-templates -> ${ns.status}: ${ns.text}`, apiserver.process);
  await waitControllerManager(s, api, kcm, kcmPort, caPem);
  timings.controllerManagerReadyMs = Date.now() - kcmStarted;

  // kube-apiserver makes every create of a custom resource sleep 2 s while its CRD became
  // Established less than 2 s ago (an HA safeguard in apiextensions' crdHandler). The condition's
  // time has one-second precision; wait until that window has surely passed so the first creates
  // in a test are not 2 s slower than the rest.
  if (crds.lastEstablished > 0) {
    const wait = crds.lastEstablished + 2_200 - Date.now();
    if (wait > 0) await sleep(Math.min(wait, 3_500));
  }
  timings.totalMs = Date.now() - t0;

  return testClusterHandle(s, { api, pki, caPem, server, kubeconfigPath, version: versionInfo.gitVersion, apiserver, crds });
}

/** What the tests get: requests, tokens and kubeconfigs, certificates, extra processes, and kube-apiserver restarts. */
function testClusterHandle(
  s: Startup,
  c: {
    api: ApiClient;
    pki: Pki;
    caPem: string;
    server: string;
    kubeconfigPath: string;
    version: string;
    apiserver: KubeApiServer;
    crds: InstalledCrds;
  },
): TestCluster {
  const { processes, dataDir, logDir, timings } = s;
  const { api, pki, caPem, server, apiserver } = c;
  let tokenConfigs = 0;
  const discoveryCache = new Map<string, Array<{ name: string; kind: string; namespaced: boolean }>>();

  return {
    kubeconfigPath: c.kubeconfigPath,
    server,
    caPem,
    version: c.version,
    dataDir,
    logDir,
    crds: c.crds.names,
    timings,
    request: api.request,
    ca: { cert: pki.caCert, key: pki.caKey },
    issueCertificate(name, spec) {
      const subject = `${spec.organization ? `/O=${spec.organization}` : ''}/CN=${spec.commonName}`;
      const ext = spec.usage === 'server' ? servingCertExtensions(spec.ips ?? [], spec.dnsNames ?? []) : clientCertExtensions();
      return issueLeaf(path.dirname(pki.caCert), name, subject, ext);
    },
    spawnProcess(spec) {
      if (processes.stopped) throw new Error('test cluster is stopped');
      const m = managed(s, spec.name, spec.bin, spec.args);
      processes.spawn(m, spec.env);
      return {
        name: m.name,
        logFile: m.logFile,
        get exited() {
          return m.exited;
        },
        start: () => {
          if (processes.stopped) throw new Error('test cluster is stopped');
          if (m.child && !m.exited) throw new Error(`${m.name} is already running`);
          processes.spawn(m, spec.env);
        },
        stop: (signal = 'SIGTERM', graceMs = 10_000) => processes.stop(m, signal, graceMs),
      };
    },
    async createServiceAccountToken(namespace, name, audiences) {
      const body = await api.mustOk<{ status: { token: string } }>(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`,
        {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { ...(audiences && audiences.length > 0 ? { audiences } : {}), expirationSeconds: 3600 },
        },
      );
      return body.status.token;
    },
    writeKubeconfigForToken(token) {
      const p = path.join(dataDir, `token-${++tokenConfigs}.kubeconfig`);
      writeFileSync(p, kubeconfigYaml(server, caPem, { token }), { mode: 0o600 });
      return p;
    },
    async resourcePath(apiVersion, kind, namespace, name) {
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      let resources = discoveryCache.get(base);
      if (!resources) {
        const list = await api.mustOk<{ resources: Array<{ name: string; kind: string; namespaced: boolean }> }>('GET', base);
        resources = list.resources.filter((r) => !r.name.includes('/'));
        discoveryCache.set(base, resources);
      }
      const res = resources.find((r) => r.kind === kind);
      if (!res) {
        discoveryCache.delete(base);
        throw new Error(`kind ${kind} is not served under ${base}`);
      }
      let p = base;
      if (res.namespaced) {
        if (!namespace) throw new Error(`${kind} is namespaced: a namespace is required`);
        p += `/namespaces/${encodeURIComponent(namespace)}`;
      }
      p += `/${res.name}`;
      if (name) p += `/${encodeURIComponent(name)}`;
      return p;
    },
    async stopApiServer() {
      await processes.stop(apiserver.process, 'SIGKILL', 10_000);
      api.resetConnections(); // drop pooled connections to the dead server
    },
    async startApiServer() {
      if (processes.stopped) throw new Error('test cluster is stopped');
      if (apiserver.process.child && !apiserver.process.exited) throw new Error('kube-apiserver is already running');
      const t = Date.now();
      processes.spawn(apiserver.process);
      await apiserver.waitReady(90_000);
      await c.crds.waitServed(60_000);
      timings.lastApiServerReadyMs = Date.now() - t;
    },
    stop: processes.stopAll,
  };
}
