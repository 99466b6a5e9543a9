import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dump, load, loadAll } from 'js-yaml';
import { type KubeResponse, REPO_ROOT, type TestCluster } from '../../infra/cluster';

export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [field: string]: unknown;
}

/** The objects of deploy/, file by file in kustomization.yaml order. */
export function deployManifests(files?: readonly string[]): Manifest[] {
  const kustomization = load(readFileSync(path.join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
  return (files ?? kustomization.resources).flatMap((file) =>
    (loadAll(readFileSync(path.join(DEPLOY_DIR, file), 'utf8')) as Manifest[]).filter((doc) => doc?.kind),
  );
}

/**
 * Server-side apply, as `kubectl apply --server-side` does it: the YAML itself as an
 * `application/apply-patch+yaml` PATCH with a field manager, strictly validated.
 */
export async function serverSideApply(cluster: TestCluster, manifest: Manifest, options: { dryRun?: boolean } = {}): Promise<KubeResponse> {
  const { apiVersion, kind, metadata } = manifest;
  const resource = await cluster.resourcePath(apiVersion, kind, metadata.namespace, metadata.name);
  const query = new URLSearchParams({ fieldManager: 'cks-lab-deploy', fieldValidation: 'Strict', force: 'true' });
  if (options.dryRun) query.set('dryRun', 'All');
  return cluster.request('PATCH', `${resource}?${query}`, dump(manifest), { contentType: 'application/apply-patch+yaml' });
}

/**
 * The ServiceAccount cks-lab runs as, with deploy/'s RBAC and the admission policy that narrows it
 * applied for real; returns a token for it (TokenRequest). The API server starts enforcing the
 * policy once its informer has seen it, moments later.
 */
export async function installDeployRbac(cluster: TestCluster): Promise<string> {
  const files = [
    'namespace.yaml',
    'serviceaccount.yaml',
    'clusterrole.yaml',
    'role-vm-templates.yaml',
    'bindings.yaml',
    'admission-policy.yaml',
  ];
  for (const manifest of deployManifests(files)) {
    const response = await serverSideApply(cluster, manifest);
    if (!response.ok) throw new Error(`apply ${manifest.kind} ${manifest.metadata.name}: ${response.status} ${response.text}`);
  }
  return cluster.createServiceAccountToken('cks-lab', 'cks-lab');
}
