/**
 * Installing what an operator would install (CRDs, RBAC, webhook configurations, CRs) into a test
 * cluster, as the cluster admin: create, or replace when it already exists, so a harness can run
 * twice against one API server.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import type { TestCluster } from '../cluster';

export interface KubeDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** Every object of every *.yaml file in `dir` (sorted by file name), empty documents dropped. */
export function loadYamlDir(dir: string): KubeDoc[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => loadAll(readFileSync(path.join(dir, f), 'utf8')) as Array<KubeDoc | null>)
    .flatMap((doc) => (doc?.kind ? (doc.kind.endsWith('List') && Array.isArray(doc.items) ? (doc.items as KubeDoc[]) : [doc]) : []));
}

/** Creates `doc`, or replaces it (keeping its resourceVersion) when it exists. */
export async function apply(cluster: TestCluster, doc: KubeDoc): Promise<void> {
  const collection = await cluster.resourcePath(doc.apiVersion, doc.kind, doc.metadata.namespace);
  const created = await cluster.request('POST', collection, doc);
  if (created.ok) return;
  if (created.status !== 409)
    throw new Error(`create ${doc.kind} ${doc.metadata.name} -> ${created.status}: ${created.text.slice(0, 800)}`);
  const item = `${collection}/${encodeURIComponent(doc.metadata.name)}`;
  const current = await cluster.request('GET', item);
  if (!current.ok) throw new Error(`get ${doc.kind} ${doc.metadata.name} -> ${current.status}: ${current.text.slice(0, 400)}`);
  const replaced = await cluster.request('PUT', item, {
    ...doc,
    metadata: { ...doc.metadata, resourceVersion: current.body.metadata.resourceVersion },
  });
  if (!replaced.ok) throw new Error(`replace ${doc.kind} ${doc.metadata.name} -> ${replaced.status}: ${replaced.text.slice(0, 800)}`);
}

/** Applies `docs` in order: CRDs first and waited for (Established), then everything else. */
export async function applyAll(cluster: TestCluster, docs: KubeDoc[], deadlineAt: number): Promise<void> {
  const crds = docs.filter((d) => d.kind === 'CustomResourceDefinition');
  for (const crd of crds) await apply(cluster, crd);
  for (const crd of crds) {
    await until(deadlineAt, `CRD ${crd.metadata.name} Established`, async () => {
      const r = await cluster.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      return (r.body?.status?.conditions ?? []).some(
        (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
      );
    });
  }
  for (const doc of docs) if (doc.kind !== 'CustomResourceDefinition') await apply(cluster, doc);
}

/** Polls `check` every 200 ms until it is truthy; past `deadlineAt` it throws with `what` and the last error. */
export async function until<T>(deadlineAt: number, what: string, check: () => Promise<T | false | undefined>): Promise<T> {
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadlineAt) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A kubeconfig for a ServiceAccount (created if absent), so a controller runs with exactly its RBAC. */
export async function serviceAccountKubeconfig(cluster: TestCluster, namespace: string, name: string): Promise<string> {
  const sa = await cluster.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name, namespace },
  });
  if (!sa.ok && sa.status !== 409) throw new Error(`create ServiceAccount ${namespace}/${name} -> ${sa.status}: ${sa.text}`);
  return cluster.writeKubeconfigForToken(await cluster.createServiceAccountToken(namespace, name));
}

/**
 * The version of `module` compiled into a Go binary, read from the build information the Go linker
 * embeds (`dep\t<module>\t<version>` lines, what `go version -m` prints) without needing Go.
 */
export function goModuleVersion(bin: string, module: string): string | undefined {
  const text = readFileSync(bin).toString('latin1');
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return new RegExp(`(?:^|\\n)(?:dep|mod)\\t${escaped}\\t(v[^\\t\\n]+)`).exec(text)?.[1];
}

/** What a binary prints for `args` (e.g. `--version`), stdout and stderr together. */
export async function binaryOutput(bin: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await promisify(execFile)(bin, args, { timeout: 20_000 });
    return `${stdout}${stderr}`.trim();
  } catch (e) {
    const err = e as Error & { stdout?: string; stderr?: string };
    return `${err.stdout ?? ''}${err.stderr ?? ''}`.trim() || err.message;
  }
}

/** Status code of a GET of `url` over HTTPS verified with the CA in `caFile`; undefined when nothing answers. */
export async function httpsStatus(url: string, caFile: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = https.get(url, { ca: readFileSync(caFile), timeout: 2_000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
