/**
 * deploy/ against a real API server: every manifest passes a strictly validated server-side
 * dry-run apply (and the Deployment's pod the restricted Pod Security Standard its namespace enforces),
 * and the RBAC is least privilege — no wildcards, nothing beyond what the platform calls need. That
 * the RBAC is also enough is proven by provisioning.test.ts and api-server-restart.test.ts, which
 * run every platform call as this ServiceAccount.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { deployManifests, installDeployRbac, serverSideApply, type Manifest } from './support/deploy-manifests';
import { describeWithApiServer, startApiServer } from './support/test-cluster';

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };

describeWithApiServer('deploy/ manifests', () => {
  let cluster: TestCluster;
  let token: string;

  /** SelfSubjectAccessReview as the cks-lab ServiceAccount. */
  async function allowed(verb: string, resource: string, options: { group?: string; namespace?: string; name?: string } = {}): Promise<boolean> {
    const review = await cluster.request(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, resource, ...options } } },
      { token },
    );
    return review.body.status.allowed === true;
  }

  beforeAll(async () => {
    cluster = await startApiServer();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The Deployment's pod, dry-run created where the restricted Pod Security Standard is enforced. */
  function podOf(deployment: Manifest & { spec: any }) {
    const { metadata, spec } = deployment.spec.template;
    // Without its ServiceAccount, which a dry run does not create (and Pod Security does not look at).
    const { serviceAccountName: _sa, ...podSpec } = spec;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...metadata, name: 'cks-lab-pod-check', namespace: 'cks-lab' }, spec: podSpec };
    return cluster.request('POST', '/api/v1/namespaces/cks-lab/pods?dryRun=All&fieldValidation=Strict', pod);
  }

  it('passes a server-side dry-run apply with strict validation; its pod meets the restricted Pod Security Standard', async () => {
    const all = deployManifests();
    // Namespaced objects need their namespace to exist, even in a dry run.
    for (const namespace of all.filter((m) => m.kind === 'Namespace')) expect((await serverSideApply(cluster, namespace)).ok).toBe(true);
    const ordered = [...all.filter((m) => m.kind !== 'Deployment'), ...all.filter((m) => m.kind === 'Deployment')];
    for (const manifest of ordered) {
      const response = await serverSideApply(cluster, manifest, { dryRun: true });
      expect(response.status, `${manifest.kind} ${manifest.metadata.name}: ${response.text}`).toBeLessThan(300);
      expect(response.headers.warning, `${manifest.kind} ${manifest.metadata.name}`).toBeUndefined();
    }
    console.log(`deploy/: ${ordered.length} objects pass a server-side dry-run apply: ${ordered.map((m) => m.kind).join(', ')}`);
    const deployment = all.find((m) => m.kind === 'Deployment') as Manifest & { spec: any };
    const pod = await podOf(deployment);
    expect(pod.status, pod.text).toBe(201);
    // Dry: nothing but the namespaces exists.
    expect((await cluster.request('GET', '/apis/apps/v1/namespaces/cks-lab/deployments/cks-lab')).status).toBe(404);
    expect((await cluster.request('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cks-lab')).status).toBe(404);
  });

  it('the checks have teeth: a misspelt field and a pod on the host network are refused', async () => {
    const deployment = deployManifests(['deployment.yaml'])[0]! as Manifest & { spec: any };
    const misspelt = structuredClone(deployment);
    misspelt.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const strict = await serverSideApply(cluster, misspelt, { dryRun: true });
    // Server-side apply reports an unknown field as a 500 ("failed to create typed patch object").
    expect(strict.ok).toBe(false);
    expect(strict.text).toMatch(/imagePullPolicyy: field not declared in schema/);

    const hostNetwork = structuredClone(deployment);
    hostNetwork.spec.template.spec.hostNetwork = true;
    const refused = await podOf(hostNetwork);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(/violates PodSecurity "restricted:latest": host namespaces/);
  });

  it('grants no wildcard and nothing outside what the platform calls', async () => {
    const rbac = deployManifests(['clusterrole.yaml', 'role-vm-templates.yaml']) as Array<Manifest & { rules: Rule[] }>;
    for (const role of rbac) {
      for (const rule of role.rules) {
        for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs]) expect(value, role.metadata.name).not.toContain('*');
      }
    }

    token = await installDeployRbac(cluster);
    // What it needs…
    expect(await allowed('create', 'virtualmachines', { group: 'kubevirt.io', namespace: 'user-session-0badcafe' })).toBe(true);
    expect(await allowed('create', 'datavolumes', { group: 'cdi.kubevirt.io', namespace: 'vm-templates' })).toBe(true);
    expect(await allowed('create', 'rolebindings', { group: 'rbac.authorization.k8s.io', namespace: 'vm-templates' })).toBe(true);
    // …and not more.
    expect(await allowed('create', 'datavolumes', { group: 'cdi.kubevirt.io', namespace: 'user-session-0badcafe' })).toBe(false);
    expect(await allowed('create', 'rolebindings', { group: 'rbac.authorization.k8s.io', namespace: 'user-session-0badcafe' })).toBe(false);
    expect(await allowed('list', 'secrets', { namespace: 'kube-system' })).toBe(false);
    expect(await allowed('update', 'virtualmachines', { group: 'kubevirt.io', namespace: 'user-session-0badcafe' })).toBe(false);
    expect(await allowed('create', 'pods', { namespace: 'user-session-0badcafe' })).toBe(false);
    expect(await allowed('delete', 'customresourcedefinitions', { group: 'apiextensions.k8s.io' })).toBe(false);
    expect(await allowed('bind', 'clusterroles', { group: 'rbac.authorization.k8s.io', name: 'cluster-admin' })).toBe(false);

    // RBAC escalation prevention: it may bind the golden cloner role in vm-templates, and no other.
    const binding = (role: string) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `try-${role}`, namespace: 'vm-templates' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts:user-session-0badcafe' }],
    });
    const path = '/apis/rbac.authorization.k8s.io/v1/namespaces/vm-templates/rolebindings?dryRun=All';
    expect((await cluster.request('POST', path, binding('cks-lab-golden-cloner'), { token })).status).toBe(201);
    const escalation = await cluster.request('POST', path, binding('cluster-admin'), { token });
    expect(escalation.status).toBe(403);
    expect(escalation.text).toMatch(/escalat|not currently held/);
  });
});
