import { KubeConfig } from '@cks-lab/kubevirt/kubernetes';
import { findTestBinaries, startTestCluster, type TestCluster } from '../../infra/cluster';
import { describeWithBinaries } from '../../infra/describe-with-binaries';

const binaries = findTestBinaries();
const missing = 'missing' in binaries ? binaries.missing : undefined;

/** `describe` for a suite that needs kube-apiserver, etcd and kube-controller-manager (built with Go by test/infra/build-test-binaries.sh). */
export function describeWithApiServer(name: string, body: () => void): void {
  describeWithBinaries(name, missing, body);
}

/** Starts a fresh control plane and prints the API server's release. */
export async function startApiServer(): Promise<TestCluster> {
  const cluster = await startTestCluster();
  console.log(`kube-apiserver ${cluster.version} at ${cluster.server}, up in ${cluster.timings.totalMs} ms`);
  return cluster;
}

/** A client-node KubeConfig for the admin (client certificate) or for a bearer token. */
export function kubeConfigOf(cluster: TestCluster, token?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(token ? cluster.writeKubeconfigForToken(token) : cluster.kubeconfigPath);
  return kc;
}

/** Polls `check` (for facts no watch of ours covers, e.g. in test assertions). */
export async function eventually<T>(what: string, deadlineMs: number, check: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
