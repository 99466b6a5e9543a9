import { describe, expect, it } from 'vitest';
import { example, examplesAvailable, type AnyObject } from './examples-for-tests';
import { sessionBaseObjects } from './session-base';
import { DEFAULT_CLUSTER_SETTINGS, clusterSettings } from './settings';

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

  it.runIf(examplesAvailable())('matches the example Namespace, network and RoleBinding', () => {
    expect(byKind('Namespace')).toEqual(example('Namespace'));
    const nad = example('NetworkAttachmentDefinition');
    expect(byKind('NetworkAttachmentDefinition')).toEqual({
      ...nad,
      metadata: { ...nad.metadata, labels: { 'app.kubernetes.io/managed-by': 'cks-lab', 'cks-lab.io/session': SESSION } },
    });
    expect(byKind('RoleBinding')).toEqual(example('RoleBinding'));
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
      expect(withOsImages.spec.ingress[0].from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'os-images' } } });
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
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
      ]);
      // Integers: a string port would be a (malformed) named port.
      expect(dns.ports).toEqual([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]);
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
