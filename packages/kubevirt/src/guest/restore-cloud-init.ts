import { guestIdentity, type Role } from '@cks-lab/core';
import { file, renderCloudConfig } from './cloud-config';
import { labNetplanFile } from './netplan';
import { READINESS_SCRIPT_PATH, readinessScript } from './readiness-script';

/**
 * User data of a VM cloned from the golden image (design §4.6). The clone is a new VM, hence a new
 * firmware UUID, hence a new cloud-init instance-id: this runs once on its first boot. The disk
 * already holds a working kubeadm node, so this must not change its identity — no kubeadm, no
 * hostname change (`preserve_hostname`; the kubelet's certificate names the node), no new
 * certificates. It only re-asserts what the node needs and is idempotent:
 * - the lab NIC's static address (the same file the bootstrap wrote; cloud-init has just
 *   regenerated the primary NIC's config for the clone's new MAC);
 * - the current readiness check (a golden disk may carry an older one);
 * - containerd, kubelet and the guest agent running.
 */
export function restoreUserData(role: Role): string {
  const { mac, labIp } = guestIdentity[role];
  return renderCloudConfig(
    [`cks-lab restore-only user data, ${role}: a clone of the golden image keeps its cluster identity.`, 'Never kubeadm here.'],
    {
      preserve_hostname: true,
      write_files: [labNetplanFile(mac, labIp), file(READINESS_SCRIPT_PATH, readinessScript(role), '0755')],
      runcmd: [
        ['netplan', 'apply'],
        ['systemctl', 'enable', '--now', 'containerd.service', 'kubelet.service'],
        ['systemctl', 'start', 'qemu-guest-agent.service'],
      ],
    },
  );
}
