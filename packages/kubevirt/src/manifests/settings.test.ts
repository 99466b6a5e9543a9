import { guestIdentity } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import { generateBootstrapPki } from '../guest/bootstrap-pki';
import { LAB_PREFIX_LENGTH } from '../guest/netplan';
import { restoreUserData } from '../guest/restore-cloud-init';
import { labelSelector, roleLabels } from './labels';
import { maxQuantity, quantityBytes } from './quantity';
import { DEFAULT_CLUSTER_SETTINGS, ovnLayer2CniConfig } from './settings';
import { userDataFor } from './user-data';

/** [first, last] address of an IPv4 CIDR as integers. */
function range(cidr: string): [number, number] {
  const [ip = '', prefix = '32'] = cidr.split('/');
  const base = ip.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(prefix));
  const first = base - (base % size);
  return [first, first + size - 1];
}
const overlaps = (a: string, b: string) => {
  const [a1, a2] = range(a);
  const [b1, b2] = range(b);
  return a1 <= b2 && b1 <= a2;
};

describe('DEFAULT_CLUSTER_SETTINGS', () => {
  it('has inner CIDRs that overlap neither each other, masquerade, the lab network nor common host cluster ranges', () => {
    const { podCidr, serviceCidr } = DEFAULT_CLUSTER_SETTINGS;
    const labNetwork = `${guestIdentity['control-plane'].labIp}/${LAB_PREFIX_LENGTH}`;
    const taken = {
      'KubeVirt masquerade': '10.0.2.0/24',
      'lab network': labNetwork,
      'kubeadm service default': '10.96.0.0/12',
      'kubeadm/flannel/kind pod default': '10.244.0.0/16',
      'k3s/RKE2 pods': '10.42.0.0/16',
      'k3s/RKE2 services': '10.43.0.0/16',
      'OpenShift/OVN-K pods': '10.128.0.0/14',
      'OpenShift services': '172.30.0.0/16',
    };
    expect(overlaps(podCidr, serviceCidr)).toBe(false);
    for (const [what, cidr] of Object.entries(taken)) {
      expect(overlaps(podCidr, cidr), `pod CIDR vs ${what}`).toBe(false);
      expect(overlaps(serviceCidr, cidr), `service CIDR vs ${what}`).toBe(false);
    }
  });

  it('defaults to the example base image, disk size and secondary network', () => {
    expect(DEFAULT_CLUSTER_SETTINGS.baseImage).toEqual({ namespace: 'vm-templates', name: 'ubuntu-2404-base' });
    expect(DEFAULT_CLUSTER_SETTINGS.diskSize).toBe('20Gi');
    expect(DEFAULT_CLUSTER_SETTINGS.labNetwork.cniConfig).toBe(ovnLayer2CniConfig);
    expect(JSON.parse(ovnLayer2CniConfig('76c3ac1b'))).toEqual({
      cniVersion: '0.4.0',
      name: 'cks-lab-76c3ac1b',
      type: 'ovn-k8s-cni-overlay',
      topology: 'layer2',
      netAttachDefName: 'user-session-76c3ac1b/lab-net',
    });
  });
});

describe('quantities', () => {
  it('reads storage quantities in bytes', () => {
    expect(quantityBytes('20Gi')).toBe(20 * 2 ** 30);
    expect(quantityBytes('500M')).toBe(500e6);
    expect(quantityBytes('1.5Ki')).toBe(1536);
    expect(quantityBytes('21474836480')).toBe(21474836480);
    expect(quantityBytes('1e9')).toBe(1e9);
    expect(() => quantityBytes('2.5e3Ki')).toThrow(/storage quantity/);
    expect(() => quantityBytes('20 GiB')).toThrow(/storage quantity/);
  });

  it('keeps the configured size unless a measured size is bigger', () => {
    expect(maxQuantity('20Gi', null)).toBe('20Gi');
    expect(maxQuantity('20Gi', 20 * 2 ** 30)).toBe('20Gi');
    expect(maxQuantity('20Gi', 20 * 2 ** 30 + 1)).toBe(String(20 * 2 ** 30 + 1));
  });
});

describe('labels', () => {
  it('make selectors for list and watch calls', () => {
    expect(labelSelector(roleLabels('76c3ac1b', 'worker'))).toBe(
      'app.kubernetes.io/managed-by=cks-lab,cks-lab.io/session=76c3ac1b,cks-lab.io/role=worker',
    );
  });
});

describe('userDataFor', () => {
  it('gives golden clones the restore-only user data and base-image VMs the bootstrap, which needs the PKI', async () => {
    expect(userDataFor('worker', { kind: 'golden', version: 1, pvc: 'x' }, DEFAULT_CLUSTER_SETTINGS)).toBe(restoreUserData('worker'));
    expect(() => userDataFor('worker', { kind: 'base-image' }, DEFAULT_CLUSTER_SETTINGS)).toThrow(/needs the session's bootstrap PKI/);
    const pki = await generateBootstrapPki();
    expect(userDataFor('worker', { kind: 'base-image' }, DEFAULT_CLUSTER_SETTINGS, pki)).toContain(pki.caCertHash);
  });
});
