/**
 * deploy/ against a real API server: every manifest passes a strictly validated server-side
 * dry-run apply (and the Deployment's pod the restricted Pod Security Standard its namespace enforces),
 * and the RBAC is least privilege — no wildcards, nothing beyond what the platform calls need, and
 * what RBAC cannot narrow held to session namespaces by the admission policy. That the RBAC is
 * also enough (and the policy lets it through) is proven by provisioning.test.ts and
 * api-server-restart.test.ts, which run every platform call as this ServiceAccount.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { deployManifests, installDeployRbac, type Manifest, serverSideApply } from './support/deploy-manifests';
import { describeWithApiServer, eventually, startApiServer } from './support/test-cluster';

type Rule = { apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] };

describeWithApiServer('deploy/ manifests', () => {
  let cluster: TestCluster;
  let token: string;

  /** SelfSubjectAccessReview as the cks-lab ServiceAccount. */
  async function allowed(
    verb: string,
    resource: string,
    options: { group?: string; namespace?: string; name?: string } = {},
  ): Promise<boolean> {
    const review = await cluster.request(
      'POST',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb, resource, ...options } },
      },
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
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...metadata, name: 'cks-lab-pod-check', namespace: 'cks-lab' },
      spec: podSpec,
    };
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
        for (const value of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs])
          expect(value, role.metadata.name).not.toContain('*');
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
    // Secrets: the one read back by name only, and none listed.
    expect(await allowed('get', 'secrets', { namespace: 'user-session-0badcafe', name: 'cks-lab-bootstrap' })).toBe(true);
    expect(
      await allowed('get', 'secrets', { namespace: 'user-session-0badcafe', name: 'cks-control-plane-user-session-0badcafe-cloudinit' }),
    ).toBe(false);
    expect(await allowed('get', 'secrets', { namespace: 'kube-system', name: 'bootstrap-token-abcdef' })).toBe(false);
    expect(await allowed('list', 'secrets', { namespace: 'user-session-0badcafe' })).toBe(false);
    // The preflight's reads.
    expect(await allowed('get', 'storageprofiles', { group: 'cdi.kubevirt.io', name: 'lab-rbd' })).toBe(true);
    expect(await allowed('get', 'clusterroles', { group: 'rbac.authorization.k8s.io', name: 'cks-lab-golden-cloner' })).toBe(true);
    expect(await allowed('get', 'clusterroles', { group: 'rbac.authorization.k8s.io', name: 'cluster-admin' })).toBe(false);
    expect(await allowed('get', 'persistentvolumeclaims', { namespace: 'vm-templates', name: 'ubuntu-2404-base' })).toBe(true);

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

  it('its admission policy refuses what RBAC allows everywhere: cks-lab creating a Secret outside a session namespace, and the like', async () => {
    if (!token) token = await installDeployRbac(cluster);
    const session = 'user-session-0badcafe';
    expect(
      (await cluster.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: session } })).status,
    ).toBe(201);
    const secret = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'probe', namespace },
      stringData: { key: 'value' },
    });
    const createSecret = (namespace: string, query = '') =>
      cluster.request('POST', `/api/v1/namespaces/${namespace}/secrets${query}`, secret(namespace), { token });

    // RBAC lets cks-lab create Secrets in every namespace (it cannot match user-session-*)…
    expect(await allowed('create', 'secrets', { namespace: 'default' })).toBe(true);
    // …the policy does not, once the API server enforces it (dry runs until then: nothing is written).
    const denied = /ValidatingAdmissionPolicy 'cks-lab-session-namespaces' with binding 'cks-lab-session-namespaces' denied request/;
    await eventually('the admission policy enforced', 30_000, async () => (await createSecret('default', '?dryRun=All')).status === 403);
    const refused = await createSecret('default');
    expect(refused.status).toBe(403);
    expect(refused.body.message).toMatch(denied);
    expect(refused.body.message).toMatch(
      /cks-lab may create secrets only in session namespaces \(user-session-\*\), not in namespace default/,
    );
    expect((await cluster.request('GET', '/api/v1/namespaces/default/secrets/probe')).status).toBe(404);
    // In a session namespace the same create goes through.
    expect((await createSecret(session)).status).toBe(201);
    // The policy binds cks-lab only: the admin still creates Secrets anywhere, and cks-lab may not delete them.
    expect((await cluster.request('POST', '/api/v1/namespaces/default/secrets', secret('default'))).status).toBe(201);
    const deleteForeign = await cluster.request('DELETE', '/api/v1/namespaces/default/secrets/probe', undefined, { token });
    expect(deleteForeign.status).toBe(403);
    expect(deleteForeign.body.message).toMatch(/cks-lab may delete secrets only in session namespaces/);
    expect((await cluster.request('DELETE', '/api/v1/namespaces/default/secrets/probe')).ok).toBe(true);

    // Namespaces: only session namespaces are cks-lab's to create and delete (not even its own).
    const deleteNamespace = await cluster.request('DELETE', '/api/v1/namespaces/cks-lab?dryRun=All', undefined, { token });
    expect(deleteNamespace.status).toBe(403);
    expect(deleteNamespace.body.message).toMatch(/cks-lab may delete only session namespaces \(user-session-\*\), not namespace cks-lab/);
    const namespace = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    expect((await cluster.request('POST', '/api/v1/namespaces?dryRun=All', namespace('lab-tools'), { token })).status).toBe(403);
    expect((await cluster.request('POST', '/api/v1/namespaces?dryRun=All', namespace('user-session-12345678'), { token })).status).toBe(
      201,
    );

    // DataVolumes: cks-lab's datavolumes/source right is cluster-wide, so it may create only copies of a session's VolumeSnapshot.
    const dataVolume = (source: object) => ({
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'DataVolume',
      metadata: { name: 'cks-control-plane-golden-v1', namespace: 'vm-templates' },
      spec: { source, storage: { resources: { requests: { storage: '20Gi' } } } },
    });
    const createDataVolume = (source: object) =>
      cluster.request(
        'POST',
        '/apis/cdi.kubevirt.io/v1beta1/namespaces/vm-templates/datavolumes?dryRun=All&fieldValidation=Strict',
        dataVolume(source),
        { token },
      );
    const stealing = await createDataVolume({ pvc: { namespace: 'kube-system', name: 'etcd-backup' } });
    expect(stealing.status).toBe(403);
    expect(stealing.body.message).toMatch(/cks-lab may create only DataVolumes that copy a VolumeSnapshot in a session namespace/);
    expect((await createDataVolume({ snapshot: { namespace: 'kube-system', name: 'etcd-backup' } })).status).toBe(403);
    const golden = await createDataVolume({ snapshot: { namespace: session, name: 'vmsnapshot-0000-volume-root' } });
    expect(golden.status, golden.text).toBe(201);
  });
});
