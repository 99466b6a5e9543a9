import type { Role } from '@cks-lab/core';
import yaml from 'js-yaml';
import { file, type WriteFile } from './cloud-config';

/** The lab NIC is renamed so scripts and Calico can name it whatever PCI slot it lands on. */
export const LAB_INTERFACE = 'lab0';
/** The session's lab segment: 192.168.100.0/24 (node addresses from guestIdentity). */
export const LAB_PREFIX_LENGTH = 24;
/**
 * The lab segment has no DHCP to announce an MTU, and an overlay (OVN-Kubernetes layer2) carries
 * 1400 bytes; the guest's 1500 default would drop large packets. 1400 is safe on any underlay.
 */
export const LAB_MTU = 1400;
/** After cloud-init's own 50-cloud-init.yaml, which configures the primary (masquerade) NIC by DHCP. */
export const LAB_NETPLAN_PATH = '/etc/netplan/60-cks-lab.yaml';
/**
 * Fixed MAC of each role's pod-network (masquerade) NIC. Every session uses the same ones: behind
 * masquerade the guest's MAC never leaves its virt-launcher pod.
 */
export const POD_NIC_MAC: Record<Role, string> = {
  'control-plane': '02:c5:1a:00:01:10',
  worker: '02:c5:1a:00:01:11',
};

/** The guest's two NICs, each matched by the fixed MAC the VM spec gives it. */
export interface NodeNics {
  podMac: string;
  labMac: string;
  labIp: string;
}

/**
 * The guest's network: the pod NIC by DHCP and the lab NIC with its static address,
 * each matched by the VM spec's fixed MAC. cloud-init's own file also configures the pod NIC, by
 * the MAC it saw when it rendered it (once per instance); this entry keeps the pod NIC configured
 * whatever that file says. It sets no name, so it never competes with cloud-init's.
 */
export function nodeNetplan({ podMac, labMac, labIp }: NodeNics): string {
  return yaml.dump({
    network: {
      version: 2,
      ethernets: {
        pod: {
          match: { macaddress: podMac },
          dhcp4: true,
        },
        [LAB_INTERFACE]: {
          match: { macaddress: labMac },
          'set-name': LAB_INTERFACE,
          dhcp4: false,
          dhcp6: false,
          'link-local': [],
          addresses: [`${labIp}/${LAB_PREFIX_LENGTH}`],
          mtu: LAB_MTU,
        },
      },
    },
  });
}

/** netplan refuses to be quiet about world-readable files: 0600. */
export function nodeNetplanFile(nics: NodeNics): WriteFile {
  return file(LAB_NETPLAN_PATH, nodeNetplan(nics), '0600');
}
