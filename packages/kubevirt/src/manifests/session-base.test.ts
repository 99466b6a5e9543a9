import { describe, expect, it } from 'vitest';
import { type AnyObject, example, examplesAvailable } from './examples-for-tests';
import { sessionBaseObjects } from './session-base';
import { clusterSettings, DEFAULT_CLUSTER_SETTINGS } from './settings';

const SESSION = '76c3ac1b';
const base = () => sessionBaseObjects(SESSION, DEFAULT_CLUSTER_SETTINGS) as AnyObject[];
const byKind = (kind: string) => base().find((object) => object.kind === kind)!;

describe('sessionBaseObjects', () => {
  it('creates the namespace first, then the network, the policy, the RoleBinding and the API Service', () => {
    expect(base().map((object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`)).toEqual([
      'Namespace//user-session-76c3ac1b',
      'NetworkAttachmentDefinition/user-session-76c3ac1b/lab-net',
      'NetworkPolicy/user-session-76c3ac1b/session-isolation',
      'RoleBinding/vm-templates/golden-clone-user-session-76c3ac1b',
      'Service/user-session-76c3ac1b/cluster-api',
    ]);
  });

  it('is deterministic', () => {
    expect(base()).toEqual(base());
  });

  it('rejects a malformed session id', () => {
    expect(() => sessionBaseObjects('76C3AC1B', DEFAULT_CLUSTER_SETTINGS)).toThrow(/malformed session id/);
  });

  it.runIf(examplesAvailable())(
    'matches the example Namespace (plus its Pod Security and KubeMacPool labels), network and RoleBinding',
    () => {
      const namespace = example('Namespace');
      namespace.metadata.labels = {
        ...namespace.metadata.labels,
        'pod-security.kubernetes.io/enforce': 'baseline',
        'mutatevirtualmachines.kubemacpool.io': 'ignore',
      };
      expect(byKind('Namespace')).toEqual(namespace);
      const nad = example('NetworkAttachmentDefinition');
      expect(byKind('NetworkAttachmentDefinition')).toEqual({
        ...nad,
        metadata: { ...nad.metadata, labels: { 'app.kubernetes.io/managed-by': 'cks-lab', 'cks-lab.io/session': SESSION } },
      });
      expect(byKind('RoleBinding')).toEqual(example('RoleBinding'));
    },
  );

  // kubevirt v1.8.0: the PSA feature gate is GA and inert (pkg/virt-config/featuregate/inactive.go), so
  // nothing labels the namespace; a virt-launcher pod adds NET_BIND_SERVICE and has no seccomp
  // profile by default (pkg/virt-controller/services/template.go), which `restricted` refuses.
  it('labels the namespace for Pod Security `baseline`, which virt-launcher pods pass, and out of KubeMacPool', () => {
    expect(byKind('Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'mutatevirtualmachines.kubemacpool.io': 'ignore',
    });
  });

  it('lets the session clone from the base image namespace too when that is not vm-templates', () => {
    const settings = clusterSettings({ baseImage: { namespace: 'os-images', name: 'ubuntu' } });
    const bindings = sessionBaseObjects(SESSION, settings).filter((object) => object.kind === 'RoleBinding') as AnyObject[];
    expect(bindings.map((b) => `${b.metadata.namespace}/${b.metadata.name}`)).toEqual([
      'vm-templates/golden-clone-user-session-76c3ac1b',
      'os-images/golden-clone-user-session-76c3ac1b',
    ]);
    for (const binding of bindings) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cks-lab-golden-cloner' });
      expect(binding.subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:serviceaccounts:user-session-76c3ac1b' },
      ]);
    }
    expect(base().filter((object) => object.kind === 'RoleBinding')).toHaveLength(1);
  });

  it('takes the secondary network CNI configuration from the settings', () => {
    const settings = clusterSettings({ labNetwork: { cniConfig: (id) => `{"name":"custom-${id}"}` } });
    const nad = sessionBaseObjects(SESSION, settings).find((object) => object.kind === 'NetworkAttachmentDefinition') as AnyObject;
    expect(nad.spec.config).toBe('{"name":"custom-76c3ac1b"}');
  });

  describe('NetworkPolicy', () => {
    const policy = () => byKind('NetworkPolicy').spec;

    it('applies to every pod of the session, both directions', () => {
      expect(policy().podSelector).toEqual({});
      expect(policy().policyTypes).toEqual(['Ingress', 'Egress']);
    });

    it('admits the session itself, the platform and the clone source namespaces only', () => {
      const from = policy().ingress.flatMap((rule: AnyObject) => rule.from);
      expect(from).toEqual([
        { podSelector: {} },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'cks-lab' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'vm-templates' } } },
      ]);
      const settings = clusterSettings({ baseImage: { namespace: 'os-images', name: 'ubuntu' } });
      const withOsImages = sessionBaseObjects(SESSION, settings).find((object) => object.kind === 'NetworkPolicy') as AnyObject;
      expect(withOsImages.spec.ingress[0].from).toContainEqual({
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'os-images' } },
      });
    });

    it('lets the guests out to the internet and the host DNS, but not to private ranges (other sessions)', () => {
      const egress = policy().egress as AnyObject[];
      const internet = egress.find((rule) => rule.to?.[0]?.ipBlock)!;
      expect(internet.to[0].ipBlock).toEqual({
        cidr: '0.0.0.0/0',
        except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'],
      });
      const dns = egress.find((rule) => rule.ports)!;
      expect(dns.to).toEqual([
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        },
      ]);
      // Integers: a string port would be a (malformed) named port. 5353: OpenShift's DNS pods.
      expect(dns.ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
        { protocol: 'UDP', port: 5353 },
        { protocol: 'TCP', port: 5353 },
      ]);
      const custom = clusterSettings({
        hostDns: { namespace: 'openshift-dns', podLabels: { 'dns.operator.openshift.io/daemonset-dns': 'default' }, ports: [5353] },
      });
      const openShift = (
        sessionBaseObjects(SESSION, custom).find((object) => object.kind === 'NetworkPolicy') as AnyObject
      ).spec.egress.find((rule: AnyObject) => rule.ports);
      expect(openShift.ports).toEqual([
        { protocol: 'UDP', port: 5353 },
        { protocol: 'TCP', port: 5353 },
      ]);
      expect(openShift.to[0].namespaceSelector.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'openshift-dns' });
      expect(egress).toContainEqual({ to: [{ podSelector: {} }] });
    });
  });

  it('exposes the inner API server inside the host cluster only, on the control plane of this session', () => {
    const service = byKind('Service');
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'cks-lab.io/session': SESSION, 'cks-lab.io/role': 'control-plane' },
      ports: [{ name: 'https', protocol: 'TCP', port: 6443 }],
    });
  });
});
