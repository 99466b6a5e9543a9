import { DomainError, type Logger, type Preflight } from '@cks-lab/core';
import { KubeConfig } from '@kubernetes/client-node';
import { KubevirtConsole } from '../console/console-client';
import { KubevirtCluster } from '../kubevirt-cluster';
import type { ClusterSettings } from '../manifests/settings';
import { ClientNodeObjectApi } from './client-node-object-api';
import { kubernetesPreflight } from './preflight';

// Callers build the KubeConfig they pass in with the same client-node release this package pins.
export { KubeConfig } from '@kubernetes/client-node';
export { ClientNodeObjectApi, type ClientNodeObjectApiOptions } from './client-node-object-api';
export { NotServedError } from './kube-errors';
export { kubernetesPreflight } from './preflight';

export interface KubernetesClusterOptions {
  settings: ClusterSettings;
  logger: Logger;
  /** Default: KUBECONFIG, ~/.kube/config, or the pod's service account (client-node's loadFromDefault). */
  kubeConfig?: KubeConfig;
  /** How long a preflight result is reused: strategy selection asks for it at every session. Default 60 s. */
  preflightTtlMs?: number;
}

export interface KubernetesCluster {
  cluster: KubevirtCluster;
  api: ClientNodeObjectApi;
  /** The VMs' serial consoles through the API server's console subresource, with cks-lab's own credentials. */
  console: KubevirtConsole;
  /** Closes the API connections. A plain function: callers pass it around unbound. */
  stop: () => void;
}

/** Real-cluster mode (`LAB_CLUSTER=kube`): the cluster port over a real API server, checked by a preflight first. */
export async function startKubernetesCluster(options: KubernetesClusterOptions): Promise<KubernetesCluster> {
  const { settings, logger } = options;
  const kc = options.kubeConfig ?? loadDefaultKubeConfig();
  const api = new ClientNodeObjectApi(kc);
  const context = kc.getCurrentContext();
  const mode = context === 'inClusterContext' ? 'in-cluster service account' : `kubeconfig context "${context}"`;
  logger.info({ server: api.server, mode }, 'REAL Kubernetes cluster: cks-lab creates KubeVirt VMs through this API server');

  const first = await kubernetesPreflight(kc, settings, api.transport);
  logPreflight(logger, first);
  let last = first;
  const preflight = cached(options.preflightTtlMs ?? 60_000, first, async () => {
    const result = await kubernetesPreflight(kc, settings, api.transport);
    if (result.snapshotUnsupportedReason !== last.snapshotUnsupportedReason) logPreflight(logger, result);
    last = result;
    return result;
  });
  const cluster = new KubevirtCluster(api, settings, 'kubernetes', preflight);
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new DomainError('the Kubernetes configuration names no API server');
  const console = new KubevirtConsole({ server, applyCredentials: (wsOptions) => kc.applyToHTTPSOptions(wsOptions) });
  return { cluster, api, console, stop: () => api.close() };
}

function loadDefaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  // loadFromDefault falls back to an unauthenticated http://localhost:8080 when it finds nothing.
  if (kc.getCurrentCluster()?.server === 'http://localhost:8080' && kc.getCurrentContext() === 'loaded-context') {
    throw new DomainError(
      'no Kubernetes configuration found: set KUBECONFIG, provide ~/.kube/config, or run cks-lab in a pod with a service account',
    );
  }
  return kc;
}

function logPreflight(logger: Logger, preflight: Preflight): void {
  for (const check of preflight.checks) {
    const message = `preflight: ${check.name}: ${check.detail}`;
    if (check.ok) logger.info({ check: check.name, ok: true }, message);
    else logger.warn({ check: check.name, ok: false }, message);
  }
  if (preflight.snapshotSupported) logger.info({}, 'preflight: the snapshot strategy is available');
  else logger.warn({ reason: preflight.snapshotUnsupportedReason }, 'preflight: sessions use the bootstrap strategy until this is fixed');
}

/** The last result for `ttlMs`; a failed refresh is not kept, so the next call tries again. */
function cached(ttlMs: number, initial: Preflight, load: () => Promise<Preflight>): () => Promise<Preflight> {
  let current = { at: Date.now(), value: Promise.resolve(initial) };
  return () => {
    if (Date.now() - current.at >= ttlMs) {
      const value = load();
      const entry = { at: Date.now(), value };
      current = entry;
      value.catch(() => {
        if (current === entry) current = { at: 0, value };
      });
    }
    return current.value;
  };
}
