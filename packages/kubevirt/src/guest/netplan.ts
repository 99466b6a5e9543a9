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

/** Static address on the NIC with the VM spec's fixed MAC (design §4.6). */
export function labNetplan(mac: string, ip: string): string {
  return yaml.dump({
    network: {
      version: 2,
      ethernets: {
        [LAB_INTERFACE]: {
          match: { macaddress: mac },
          'set-name': LAB_INTERFACE,
          dhcp4: false,
          dhcp6: false,
          'link-local': [],
          addresses: [`${ip}/${LAB_PREFIX_LENGTH}`],
          mtu: LAB_MTU,
        },
      },
    },
  });
}

/** netplan refuses to be quiet about world-readable files: 0600. */
export function labNetplanFile(mac: string, ip: string): WriteFile {
  return file(LAB_NETPLAN_PATH, labNetplan(mac, ip), '0600');
}
