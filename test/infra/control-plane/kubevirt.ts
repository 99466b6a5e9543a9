/**
 * KubeVirt's control plane, the real virt-api and virt-controller binaries, installed into a test
 * cluster the way virt-operator installs them (its own CRDs, RBAC, webhook configurations and
 * KubeVirt CR, as dumped from the operator's generator code at the same version by
 * build-control-plane-binaries.sh) and run as processes under their own ServiceAccounts.
 *
 * What virt-operator itself does at run time is not run; this file does its part: the `kubevirt`
 * namespace, certificates (issued by the test cluster's CA instead of KubeVirt's self-signed
 * bundle), the `kubevirt-ca` ConfigMap, webhooks pointed at the local virt-api by URL (there is no
 * Service network here), and the KubeVirt CR's status once the components are up.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { freePort, type ManagedProcess, type TestCluster } from '../cluster';
import { apply, applyAll, type KubeDoc, loadYamlDir, serviceAccountKubeconfig, until } from './apply';

export const KUBEVIRT_NAMESPACE = 'kubevirt';
const VIRT_API_SERVICE = 'virt-api';

/** Kinds virt-operator installs that the control plane needs; Deployments/DaemonSets are replaced by processes and stand-ins. */
const INSTALLED_KINDS = new Set([
  'CustomResourceDefinition',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'PriorityClass',
]);

export interface KubevirtControlPlane {
  version: string;
  virtApi: ManagedProcess;
  virtController: ManagedProcess;
  /** A token of virt-handler's ServiceAccount, for the node stand-in. */
  handlerToken: string;
  /** Starts virt-controller again (after virtController.stop()); resolves with the ms until it leads. */
  restartController(deadlineAt: number): Promise<number>;
  stop(): Promise<void>;
}

export interface StartKubevirtOptions {
  virtApiBin: string;
  virtControllerBin: string;
  version: string;
  /** Folder of the operator's YAML dump (CRDs, RBAC, webhooks). */
  manifestsDir: string;
  featureGates: string[];
  deadlineAt: number;
}

export async function startKubevirt(cluster: TestCluster, opts: StartKubevirtOptions): Promise<KubevirtControlPlane> {
  const docs = loadYamlDir(opts.manifestsDir).filter((d) => INSTALLED_KINDS.has(d.kind));
  await apply(cluster, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: KUBEVIRT_NAMESPACE } });

  const apiPort = await freePort();
  const apiUrl = `https://127.0.0.1:${apiPort}`;
  const caBundle = Buffer.from(readFileSync(cluster.ca.cert)).toString('base64');
  const webhooks = docs.filter((d) => d.kind.endsWith('WebhookConfiguration'));
  const others = docs.filter((d) => !d.kind.endsWith('WebhookConfiguration'));
  await applyAll(cluster, others, opts.deadlineAt);

  // virt-api checks client certificates of virt-handler against this bundle (KubeVirt's own CA in a real install).
  await apply(cluster, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubevirt-ca', namespace: KUBEVIRT_NAMESPACE },
    data: { 'ca-bundle': readFileSync(cluster.ca.cert, 'utf8') },
  });
  await apply(cluster, {
    apiVersion: 'kubevirt.io/v1',
    kind: 'KubeVirt',
    metadata: { name: 'kubevirt', namespace: KUBEVIRT_NAMESPACE },
    spec: {
      certificateRotateStrategy: {},
      configuration: { developerConfiguration: { featureGates: opts.featureGates } },
      customizeComponents: {},
      imagePullPolicy: 'IfNotPresent',
      workloadUpdateStrategy: {},
    },
  });

  // What virt-operator writes into the CR's status: the default architecture every VM gets from
  // virt-api's mutator (pkg/virt-operator/util/config.go; read back by pkg/virt-config/configuration.go)
  // and the install's phase (Deployed: reported as such once the components below are up).
  const kv = await cluster.request('GET', `/apis/kubevirt.io/v1/namespaces/${KUBEVIRT_NAMESPACE}/kubevirts/kubevirt`);
  const status = await cluster.request(
    'PATCH',
    `/apis/kubevirt.io/v1/namespaces/${KUBEVIRT_NAMESPACE}/kubevirts/kubevirt/status`,
    {
      status: {
        phase: 'Deployed',
        defaultArchitecture: 'amd64',
        observedKubeVirtVersion: opts.version,
        targetKubeVirtVersion: opts.version,
        observedGeneration: kv.body?.metadata?.generation,
        conditions: [{ type: 'Available', status: 'True', reason: 'AllComponentsReady', message: 'All components are ready.' }],
      },
    },
    { contentType: 'application/merge-patch+json' },
  );
  if (!status.ok) throw new Error(`KubeVirt CR status -> ${status.status}: ${status.text}`);

  const serving = await cluster.issueCertificate('virt-api', {
    commonName: 'virt-api.kubevirt.pod.cluster.local',
    usage: 'server',
    ips: ['127.0.0.1'],
    dnsNames: ['virt-api.kubevirt.svc'],
  });
  const handlerClient = await cluster.issueCertificate('virt-api-handler-client', {
    commonName: 'kubevirt.io:system:client:virt-handler',
    usage: 'client',
  });
  const controllerMetrics = await cluster.issueCertificate('virt-controller', {
    commonName: 'virt-controller.kubevirt.pod.cluster.local',
    usage: 'server',
    ips: ['127.0.0.1'],
  });

  const virtApi = cluster.spawnProcess({
    name: 'virt-api',
    bin: opts.virtApiBin,
    args: [
      `--kubeconfig=${await serviceAccountKubeconfig(cluster, KUBEVIRT_NAMESPACE, 'kubevirt-apiserver')}`,
      '--listen=127.0.0.1',
      `--port=${apiPort}`,
      `--tls-cert-file=${serving.cert}`,
      `--tls-key-file=${serving.key}`,
      `--handler-cert-file=${handlerClient.cert}`,
      `--handler-key-file=${handlerClient.key}`,
    ],
  });
  await until(opts.deadlineAt, `virt-api serving on ${apiUrl} (log ${virtApi.logFile})`, async () => {
    if (virtApi.exited) throw new Error(`virt-api exited (${JSON.stringify(virtApi.exited)})`);
    return probeTls(apiUrl, cluster.ca.cert);
  });

  // Only virt-api's hooks: virt-operator's own (for the KubeVirt CR) have no process to answer them.
  for (const webhook of webhooks.map((w) => pointAtUrl(w, apiUrl, caBundle))) {
    if ((webhook.webhooks as unknown[]).length > 0) await apply(cluster, webhook);
  }

  const metricsPort = await freePort();
  const virtController = cluster.spawnProcess({
    name: 'virt-controller',
    bin: opts.virtControllerBin,
    args: [
      `--kubeconfig=${await serviceAccountKubeconfig(cluster, KUBEVIRT_NAMESPACE, 'kubevirt-controller')}`,
      '--listen=127.0.0.1',
      `--port=${metricsPort}`,
      `--prom-cert-file=${controllerMetrics.cert}`,
      `--prom-key-file=${controllerMetrics.key}`,
      `--launcher-image=quay.io/kubevirt/virt-launcher:${opts.version}`,
      `--exporter-image=quay.io/kubevirt/virt-exportserver:${opts.version}`,
    ],
  });
  // Leading: the Lease renewed by this process (virt-controller starts its controllers only then). Its
  // identity is the host name (pkg/virt-controller/watch/application.go), the same after a restart, so
  // only the renewal time tells the new process from the old one.
  const waitLeading = async (deadlineAt: number): Promise<number> => {
    const since = Date.now();
    await until(deadlineAt, `virt-controller leader lease (log ${virtController.logFile})`, async () => {
      if (virtController.exited) throw new Error(`virt-controller exited (${JSON.stringify(virtController.exited)})`);
      const lease = await cluster.request('GET', `/apis/coordination.k8s.io/v1/namespaces/${KUBEVIRT_NAMESPACE}/leases/virt-controller`);
      return lease.ok && !!lease.body?.spec?.holderIdentity && Date.parse(lease.body.spec.renewTime) >= since;
    });
    return Date.now() - since;
  };
  await waitLeading(opts.deadlineAt);

  const handlerToken = await cluster.createServiceAccountToken(KUBEVIRT_NAMESPACE, 'kubevirt-handler');
  return {
    version: opts.version,
    virtApi,
    virtController,
    handlerToken,
    async restartController(deadlineAt) {
      virtController.start();
      return waitLeading(deadlineAt);
    },
    async stop() {
      await virtController.stop();
      await virtApi.stop();
    },
  };
}

/** The operator's webhook configuration, its virt-api Service reference replaced by a URL to the local process. */
function pointAtUrl(doc: KubeDoc, baseUrl: string, caBundle: string): KubeDoc {
  const hooks = ((doc.webhooks as any[]) ?? []).filter((h) => h.clientConfig?.service?.name === VIRT_API_SERVICE);
  return {
    ...doc,
    webhooks: hooks.map((h) => ({
      ...h,
      clientConfig: { url: `${baseUrl}${h.clientConfig.service.path ?? '/'}`, caBundle },
    })),
  };
}

/** Whether an HTTPS server answers at `url` with a certificate the CA verifies. */
async function probeTls(url: string, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: readFileSync(caFile), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}
