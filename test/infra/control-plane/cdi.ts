/**
 * CDI's control plane, the real cdi-apiserver and cdi-controller binaries, installed into a test
 * cluster the way cdi-operator installs them (CRDs, RBAC, ServiceAccounts and webhook
 * configurations from the operator's own resource factories, dumped by
 * build-control-plane-binaries.sh) and run as processes under their own ServiceAccounts.
 *
 * cdi-operator is not run; this file does what it does at run time (pkg/operator/controller):
 *  - the CDI CR with its finalizer and the `cdi.kubevirt.io/configAuthority` annotation
 *    (callbacks.go reconcileSetConfigAuthority: CDIConfig's spec then follows the CR's spec.config),
 *    the `cdi-config` ConfigMap it owns (controller.go createOperatorConfig: CDI's components make
 *    that CR the owner of what they create), and the CR's status once the components run
 *    (controller-lifecycle-operator-sdk: phase Deployed, Available/Progressing/Degraded);
 *  - certificates: cdi-apiserver's serving certificate comes from the test cluster's CA (its
 *    webhooks are registered by URL with that CA bundle: there is no Service network here), the
 *    upload server/client signers cdi-controller reads from files (cert/factory.go) are generated;
 *  - the pvc-mutate webhook when the CR enables WebhookPvcRendering (callbacks.go
 *    reconcilePvcMutatingWebhook);
 *  - the kubelet's part of the Deployments: the `cdi-api-signing-key` Secret (created by
 *    cdi-apiserver itself, pkg/keys/keystore.go GetOrCreatePrivateKey) is written where
 *    cdi-controller reads it, and the Deployments' env is passed to the processes.
 * Not installed: the `cdi-api` Service and the upload.cdi.kubevirt.io APIService (uploads are not
 * used; an aggregated API with no reachable endpoint would break discovery for every client), and
 * the upload proxy.
 *
 * Hard-coded in the binaries, with no flag or env to move them:
 *  - cdi-apiserver listens on 0.0.0.0:8443 (cmd/cdi-apiserver/apiserver.go defaultHost/defaultPort);
 *  - cdi-controller's metrics server listens on :8443 too (cmd/cdi-controller/controller.go
 *    manager.Options.Metrics), and exits when it cannot. In a cluster they are separate pods; here
 *    cdi-controller runs in its own network namespace (`unshare --net`), reaching the API server
 *    through a forwarder (127.0.0.1:<API port> inside -> a unix socket in the data dir -> the API
 *    server), so TLS to the API server stays end to end;
 *  - cdi-controller reads the clone-token keys from /var/run/cdi/token/keys/id_rsa{,.pub}
 *    (pkg/controller/clone-controller.go TokenKeyDir): they are written there (needs root);
 *  - cdi-controller creates and removes /tmp/ready (its readiness probe file);
 *  - both take their namespace from /var/run/secrets/kubernetes.io/serviceaccount/namespace,
 *    falling back to "cdi" (pkg/util/util.go GetNamespace), so the install namespace is "cdi".
 * Image env vars (IMPORTER_IMAGE etc.) are the Deployment's image names: no importer, cloner or
 * upload pod runs here, and CSI/snapshot clones need none.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ManagedProcess, ProcessSpec, TestCluster } from '../cluster';
import {
  apply,
  applyAll,
  binaryOutput,
  goModuleVersion,
  httpsStatus,
  type KubeDoc,
  loadYamlDir,
  serviceAccountKubeconfig,
  until,
} from './apply';

export const CDI_NAMESPACE = 'cdi';
/** cmd/cdi-apiserver/apiserver.go defaultPort (not configurable). */
const CDI_API_PORT = 8443;
const CDI_API_URL = `https://127.0.0.1:${CDI_API_PORT}`;
/** pkg/controller/clone-controller.go TokenKeyDir (not configurable). */
export const TOKEN_KEY_DIR = '/var/run/cdi/token/keys';
/** pkg/apiserver/apiserver.go APISigningKeySecretName */
const SIGNING_KEY_SECRET = 'cdi-api-signing-key';
/** pkg/common/common.go CDIControllerResourceName, CDIApiServerResourceName */
const CONTROLLER_DEPLOYMENT = 'cdi-deployment';
const APISERVER_DEPLOYMENT = 'cdi-apiserver';
/** cmd/cdi-controller/controller.go LeaderElectionID */
const CONTROLLER_LEASE = 'cdi-controller-leader-election-helper';
/** pkg/operator/controller/controller.go finalizerName */
const OPERATOR_FINALIZER = 'operator.cdi.kubevirt.io';
/** pkg/controller/config-controller.go AnnConfigAuthority */
const ANN_CONFIG_AUTHORITY = 'cdi.kubevirt.io/configAuthority';

const INSTALLED_KINDS = new Set([
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
]);

export interface ClaimPropertySet {
  accessModes: string[];
  volumeMode: 'Block' | 'Filesystem';
}

export interface StartCdiOptions {
  binaries: { controller: string; apiserver: string };
  /** The cdi/ folder of CONTROL_PLANE_MANIFESTS (the operator's dump). */
  manifestsDir: string;
  deadlineAt: number;
  /**
   * A StorageClass CDI has no built-in capabilities for (pkg/storagecapabilities): its StorageProfile
   * gets `claimPropertySets`, as an admin does for such a provisioner, so DataVolumes with the
   * `storage` API need not name access and volume modes. Waited for (it must exist).
   */
  storageClass?: { name: string; claimPropertySets: ClaimPropertySet[] };
  /** klog -v of both (the operator's default is 1). */
  verbosity?: number;
}

export interface CdiTimings {
  /** spawn -> /healthz 200 */
  apiserverReadyMs: number;
  /** spawn -> leading, with CDIConfig reconciled */
  controllerReadyMs: number;
  totalMs: number;
}

export interface CdiControlPlane {
  versions: { controller: string; apiserver: string };
  apiserver: ManagedProcess;
  controller: ManagedProcess;
  timings: CdiTimings;
  /** Starts cdi-apiserver again (after apiserver.stop()); resolves with the ms until it serves. */
  restartApiserver(deadlineAt: number): Promise<number>;
  /** Starts cdi-controller again (after controller.stop()); resolves with the ms until it leads
   * (a killed leader does not release its Lease: the new one waits out the 15 s lease duration). */
  restartController(deadlineAt: number): Promise<number>;
  stop(): Promise<void>;
}

export async function startCdi(cluster: TestCluster, opts: StartCdiOptions): Promise<CdiControlPlane> {
  const t0 = Date.now();
  const { deadlineAt } = opts;
  const docs = loadYamlDir(opts.manifestsDir);
  const reference = loadYamlDir(path.join(opts.manifestsDir, 'reference'));
  const deployment = (name: string) => {
    const d = reference.find((o) => o.kind === 'Deployment' && o.metadata.name === name) as any;
    if (!d) throw new Error(`no Deployment ${name} in ${opts.manifestsDir}/reference`);
    return { serviceAccount: d.spec.template.spec.serviceAccountName as string, container: d.spec.template.spec.containers[0] };
  };
  const controllerDeployment = deployment(CONTROLLER_DEPLOYMENT);
  const apiserverDeployment = deployment(APISERVER_DEPLOYMENT);

  const apiserverVersion = /Containerized Data Importer (\S+)/.exec(await binaryOutput(opts.binaries.apiserver, ['--version']))?.[1];
  const controllerVersion = goModuleVersion(opts.binaries.controller, 'kubevirt.io/containerized-data-importer');
  if (!apiserverVersion || !controllerVersion)
    throw new Error(`cannot tell the CDI version of ${opts.binaries.apiserver} / ${opts.binaries.controller}`);

  await applyAll(
    cluster,
    docs.filter((d) => INSTALLED_KINDS.has(d.kind)),
    deadlineAt,
  );

  // --- the CDI CR and the operator's cdi-config ConfigMap ---
  const crDoc = docs.find((d) => d.kind === 'CDI');
  if (!crDoc) throw new Error(`no CDI CR in ${opts.manifestsDir}`);
  await apply(cluster, {
    ...crDoc,
    metadata: {
      ...crDoc.metadata,
      annotations: { ...(crDoc.metadata.annotations as object), [ANN_CONFIG_AUTHORITY]: '' },
      finalizers: [OPERATOR_FINALIZER],
    },
  });
  const crPath = await cluster.resourcePath(crDoc.apiVersion, 'CDI', undefined, crDoc.metadata.name);
  const cr = await mustGet(cluster, crPath);
  await apply(cluster, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'cdi-config',
      namespace: CDI_NAMESPACE,
      labels: { 'operator.cdi.kubevirt.io': '', 'app.kubernetes.io/managed-by': 'cdi-operator', 'app.kubernetes.io/component': 'storage' },
      ownerReferences: [ownedByCr(cr)],
    },
  });

  // --- certificates ---
  const certDir = path.join(cluster.dataDir, 'cdi-certs');
  mkdirSync(certDir, { recursive: true });
  const serving = await cluster.issueCertificate('cdi-apiserver', {
    commonName: 'cdi-api.cdi.svc',
    usage: 'server',
    ips: ['127.0.0.1'],
    dnsNames: ['cdi-api.cdi.svc'],
  });
  const uploadServerSigner = await signer(certDir, 'cdi-uploadserver-signer');
  const uploadClientSigner = await signer(certDir, 'cdi-uploadserver-client-signer');
  for (const [name, s] of [
    ['cdi-uploadserver-signer-bundle', uploadServerSigner],
    ['cdi-uploadserver-client-signer-bundle', uploadClientSigner],
  ] as const) {
    await apply(cluster, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: CDI_NAMESPACE },
      data: { 'ca-bundle.crt': readFileSync(s.cert, 'utf8') },
    });
  }

  // --- cdi-apiserver ---
  if (!(await portFree(CDI_API_PORT))) {
    throw new Error(
      `port ${CDI_API_PORT}, which cdi-apiserver binds on every address (hard-coded), is in use: is another test cluster with CDI running?`,
    );
  }
  const verbosityArgs = (args: string[]) =>
    opts.verbosity === undefined ? args : [...args.filter((a) => !/^-{1,2}v=/.test(a)), `-v=${opts.verbosity}`];
  const apiserver = cluster.spawnProcess({
    name: 'cdi-apiserver',
    bin: opts.binaries.apiserver,
    args: [
      ...verbosityArgs(apiserverDeployment.container.args ?? []),
      `--kubeconfig=${await serviceAccountKubeconfig(cluster, CDI_NAMESPACE, apiserverDeployment.serviceAccount)}`,
    ],
    // APIServerEnvs (cmd/cdi-apiserver/apiserver.go): the serving certificate files.
    env: { ...plainEnv(apiserverDeployment.container), CERT_FILE: serving.cert, KEY_FILE: serving.key },
  });
  const waitApiserver = async (deadline: number): Promise<number> => {
    const t = Date.now();
    await until(deadline, `cdi-apiserver ${CDI_API_URL}/healthz (log ${apiserver.logFile})`, async () => {
      if (apiserver.exited) throw new Error(`cdi-apiserver exited (${JSON.stringify(apiserver.exited)}): ${tail(apiserver.logFile)}`);
      return (await httpsStatus(`${CDI_API_URL}/healthz`, cluster.ca.cert)) === 200;
    });
    return Date.now() - t;
  };
  const apiserverReadyMs = await waitApiserver(deadlineAt);

  const caBundle = Buffer.from(readFileSync(cluster.ca.cert)).toString('base64');
  for (const hook of docs.filter((d) => d.kind.endsWith('WebhookConfiguration'))) await apply(cluster, pointAtUrl(hook, caBundle));
  if (((cr.spec?.config?.featureGates as string[] | undefined) ?? []).includes('WebhookPvcRendering')) {
    await apply(cluster, pointAtUrl(pvcMutatingWebhook(cr), caBundle));
  }

  // --- the signing key pair, where the controller's Deployment mounts the Secret ---
  const keySecret = await until(deadlineAt, `Secret ${CDI_NAMESPACE}/${SIGNING_KEY_SECRET} (created by cdi-apiserver)`, async () => {
    const r = await cluster.request('GET', `/api/v1/namespaces/${CDI_NAMESPACE}/secrets/${SIGNING_KEY_SECRET}`);
    return r.ok ? (r.body.data as Record<string, string>) : undefined;
  });
  writeTokenKeys(keySecret);

  // --- cdi-controller, in its own network namespace ---
  const uploadSignerEnv = {
    // ControllerEnvs (cmd/cdi-controller/controller.go): the signers' files, in the data dir.
    UPLOAD_SERVER_KEY_FILE: uploadServerSigner.key,
    UPLOAD_SERVER_CERT_FILE: uploadServerSigner.cert,
    UPLOAD_CLIENT_KEY_FILE: uploadClientSigner.key,
    UPLOAD_CLIENT_CERT_FILE: uploadClientSigner.cert,
  };
  const forwarder = await apiServerForwarder(cluster);
  const controller = spawnInNetworkNamespace(
    cluster,
    {
      name: 'cdi-controller',
      bin: opts.binaries.controller,
      args: [
        ...verbosityArgs(controllerDeployment.container.args ?? []),
        `--kubeconfig=${await serviceAccountKubeconfig(cluster, CDI_NAMESPACE, controllerDeployment.serviceAccount)}`,
      ],
      env: { ...plainEnv(controllerDeployment.container), ...uploadSignerEnv },
    },
    forwarder,
  );
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${CDI_NAMESPACE}/leases/${CONTROLLER_LEASE}`;
  const holder = async () => {
    const r = await cluster.request('GET', leasePath);
    return r.ok ? (r.body.spec?.holderIdentity as string | undefined) : undefined;
  };
  /** Leading (a holder other than `previous`), and its config controller has written CDIConfig's status. */
  const waitController = async (deadline: number, previous: string | undefined): Promise<number> => {
    const t = Date.now();
    await until(deadline, `cdi-controller leading (Lease ${CDI_NAMESPACE}/${CONTROLLER_LEASE}; log ${controller.logFile})`, async () => {
      if (controller.exited) throw new Error(`cdi-controller exited (${JSON.stringify(controller.exited)}): ${tail(controller.logFile)}`);
      const h = await holder();
      return !!h && h !== previous;
    });
    await until(deadline, 'CDIConfig "config" reconciled by cdi-controller', async () => {
      const r = await cluster.request('GET', '/apis/cdi.kubevirt.io/v1beta1/cdiconfigs/config');
      return r.ok && !!r.body.status;
    });
    return Date.now() - t;
  };
  const controllerReadyMs = await waitController(deadlineAt, undefined);

  if (opts.storageClass) {
    const profilePath = `/apis/cdi.kubevirt.io/v1beta1/storageprofiles/${opts.storageClass.name}`;
    await until(
      deadlineAt,
      `StorageProfile ${opts.storageClass.name} (created by cdi-controller)`,
      async () => (await cluster.request('GET', profilePath)).ok,
    );
    const patched = await cluster.request(
      'PATCH',
      profilePath,
      { spec: { claimPropertySets: opts.storageClass.claimPropertySets } },
      { contentType: 'application/merge-patch+json' },
    );
    if (!patched.ok) throw new Error(`StorageProfile ${opts.storageClass.name} -> ${patched.status}: ${patched.text}`);
    await until(deadlineAt, `StorageProfile ${opts.storageClass.name} status.claimPropertySets`, async () => {
      const r = await cluster.request('GET', profilePath);
      return (r.body?.status?.claimPropertySets ?? []).length === opts.storageClass!.claimPropertySets.length;
    });
  }

  // --- what the operator reports once its Deployments are available ---
  await setDeployedStatus(cluster, crPath, apiserverVersion);

  return {
    versions: { controller: controllerVersion, apiserver: apiserverVersion },
    apiserver,
    controller,
    timings: { apiserverReadyMs, controllerReadyMs, totalMs: Date.now() - t0 },
    async restartApiserver(deadline) {
      apiserver.start();
      return waitApiserver(deadline);
    },
    async restartController(deadline) {
      const previous = await holder();
      controller.start();
      return waitController(deadline, previous);
    },
    async stop() {
      await controller.stop();
      await apiserver.stop();
      await forwarder.close();
    },
  };
}

/** The operator's webhook configuration, its cdi-api Service reference replaced by a URL to the local process. */
function pointAtUrl(doc: KubeDoc, caBundle: string): KubeDoc {
  return {
    ...doc,
    webhooks: ((doc.webhooks as any[]) ?? []).map((h) => ({
      ...h,
      clientConfig: { url: `${CDI_API_URL}${h.clientConfig.service?.path ?? '/'}`, caBundle },
    })),
  };
}

/** pkg/operator/controller/callbacks.go initPvcMutatingWebhook */
/** What cdi-operator sets on what it creates for its CR. */
function ownedByCr(cr: any) {
  return {
    apiVersion: cr.apiVersion,
    kind: 'CDI',
    name: cr.metadata.name,
    uid: cr.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function pvcMutatingWebhook(cr: any): KubeDoc {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: 'cdi-api-pvc-mutate',
      labels: { 'cdi.kubevirt.io': 'cdi-api' },
      ownerReferences: [ownedByCr(cr)],
    },
    webhooks: [
      {
        name: 'pvc-mutate.cdi.kubevirt.io',
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['persistentvolumeclaims'], scope: '*' }],
        clientConfig: { service: { namespace: CDI_NAMESPACE, name: 'cdi-api', path: '/pvc-mutate', port: 443 } },
        failurePolicy: 'Fail',
        sideEffects: 'None',
        matchPolicy: 'Exact',
        namespaceSelector: {},
        timeoutSeconds: 10,
        admissionReviewVersions: ['v1'],
        objectSelector: { matchLabels: { 'cdi.kubevirt.io/applyStorageProfile': 'true' } },
        reinvocationPolicy: 'Never',
      },
    ],
  };
}

/** controller-lifecycle-operator-sdk reconciler.go: Deploying -> Deployed with MarkCrHealthyMessage's conditions. */
async function setDeployedStatus(cluster: TestCluster, crPath: string, version: string): Promise<void> {
  const crd = await mustGet(cluster, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cdis.cdi.kubevirt.io');
  const hasStatusSubresource = (crd.spec.versions as any[]).some((v) => v.subresources?.status);
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const condition = (type: string, status: string, reason?: string, message?: string) => ({
    type,
    status,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
    ...(reason ? { reason, message } : {}),
  });
  const r = await cluster.request(
    'PATCH',
    hasStatusSubresource ? `${crPath}/status` : crPath,
    {
      status: {
        phase: 'Deployed',
        operatorVersion: version,
        targetVersion: version,
        observedVersion: version,
        conditions: [
          condition('Available', 'True', 'DeployCompleted', 'Deployment Completed'),
          condition('Progressing', 'False'),
          condition('Degraded', 'False'),
        ],
      },
    },
    { contentType: 'application/merge-patch+json' },
  );
  if (!r.ok) throw new Error(`CDI CR status -> ${r.status}: ${r.text}`);
}

/** The container's env with literal values; fieldRef values (the installer's part-of/version labels) are unset on this install. */
function plainEnv(container: { env?: Array<{ name: string; value?: string }> }): Record<string, string> {
  return Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

/** What the kubelet's secret volume does for cdi-deployment's `cdi-api-signing-key` mount. */
function writeTokenKeys(data: Record<string, string>): void {
  try {
    mkdirSync(TOKEN_KEY_DIR, { recursive: true });
    for (const [file, mode] of [
      ['id_rsa', 0o600],
      ['id_rsa.pub', 0o644],
    ] as const) {
      const target = path.join(TOKEN_KEY_DIR, file);
      if (existsSync(target)) chmodSync(target, 0o600);
      writeFileSync(target, Buffer.from(data[file] ?? '', 'base64'), { mode });
      chmodSync(target, mode);
    }
  } catch (e) {
    throw new Error(
      `cdi-controller reads its clone-token keys from ${TOKEN_KEY_DIR} (hard-coded): cannot write there: ${(e as Error).message}`,
    );
  }
}

/** A self-signed CA (RSA, like the operator's cert manager) for one of the upload signers. */
async function signer(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await promisify(execFile)(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3',
      '-subj',
      `/CN=${name}@cks-lab-test`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    { timeout: 30_000 },
  );
  return { cert, key };
}

interface Forwarder {
  socket: string;
  apiPort: number;
  close(): Promise<void>;
}

/** The host side of cdi-controller's way to the API server: a unix socket piped to the API server's port. */
async function apiServerForwarder(cluster: TestCluster): Promise<Forwarder> {
  const apiPort = Number(new URL(cluster.server).port);
  const socket = path.join(cluster.dataDir, 'cdi-controller-api.sock');
  rmSync(socket, { force: true });
  const server = net.createServer((conn) => {
    const upstream = net.connect(apiPort, '127.0.0.1');
    conn.pipe(upstream).pipe(conn);
    conn.on('error', () => upstream.destroy());
    upstream.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  server.unref();
  return { socket, apiPort, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/**
 * Runs `spec` in a new network namespace whose loopback has the API server's address: a small
 * Node forwarder listens on 127.0.0.1:<API port> in there and pipes to the forwarder's unix socket.
 * The process is `unshare` exec'ing a shell exec'ing the binary, so the managed pid is the binary's;
 * the forwarder exits when its parent (the binary) is gone.
 */
function spawnInNetworkNamespace(cluster: TestCluster, spec: ProcessSpec, forwarder: Forwarder): ManagedProcess {
  const ready = path.join(cluster.dataDir, `${spec.name}-netns-forwarder.ready`);
  const forward = [
    "const net = require('net'), fs = require('fs');",
    'const [sock, port, ready] = process.argv.slice(1);',
    'const parent = process.ppid;',
    'net.createServer((c) => { const u = net.connect(sock); c.pipe(u).pipe(c); c.on("error", () => u.destroy()); u.on("error", () => c.destroy()); })',
    '  .listen(Number(port), "127.0.0.1", () => fs.writeFileSync(ready, ""));',
    'setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500);',
  ].join('\n');
  const script = [
    'set -e',
    'node="$1"; forward="$2"; sock="$3"; port="$4"; ready="$5"; bin="$6"; shift 6',
    'ip link set lo up',
    'rm -f "$ready"',
    '"$node" -e "$forward" "$sock" "$port" "$ready" &',
    'i=0; while [ ! -e "$ready" ]; do i=$((i + 1)); if [ "$i" -gt 200 ]; then echo "netns forwarder did not start" >&2; exit 1; fi; sleep 0.05; done',
    'exec "$bin" "$@"',
  ].join('\n');
  // As root a plain network namespace; otherwise one owned by a new user namespace (same uid mapped to root).
  const unshareArgs = process.getuid?.() === 0 ? ['--net'] : ['--user', '--map-root-user', '--net'];
  return cluster.spawnProcess({
    name: spec.name,
    bin: 'unshare',
    args: [
      ...unshareArgs,
      '--',
      '/bin/sh',
      '-c',
      script,
      spec.name,
      process.execPath,
      forward,
      forwarder.socket,
      String(forwarder.apiPort),
      ready,
      spec.bin,
      ...spec.args,
    ],
    env: spec.env,
  });
}

/** Whether 0.0.0.0:`port` can be bound now. */
async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '0.0.0.0', () => probe.close(() => resolve(true)));
  });
}

async function mustGet(cluster: TestCluster, urlPath: string): Promise<any> {
  const r = await cluster.request('GET', urlPath);
  if (!r.ok) throw new Error(`GET ${urlPath} -> ${r.status}: ${r.text.slice(0, 400)}`);
  return r.body;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
