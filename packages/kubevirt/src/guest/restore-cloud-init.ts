import { guestIdentity, type Role } from '@cks-lab/core';
import { file, renderCloudConfig } from './cloud-config';
import { nodeNetplanFile, POD_NIC_MAC } from './netplan';
import { READINESS_SCRIPT_PATH, readinessScript } from './readiness-script';
import { SERIAL_AUTOLOGIN_COMMANDS, serialAutologinFile } from './serial-console';

export const NEW_MACHINE_ID_SCRIPT_PATH = '/usr/local/sbin/cks-lab-new-machine-id';

/**
 * Gives a clone its own machine ID. Every clone of a golden disk boots with the machine ID of the
 * VM the image was taken from. On a kubeadm node that ID names the journal's directory (journald),
 * seeds systemd-networkd's DHCP client identity (DUID), backs D-Bus's ID and is reported as the
 * Node's machineID by the kubelet; nothing in the cluster's own identity (certificates, node name,
 * addresses) depends on it, so changing it keeps the restored cluster intact.
 *
 * Safely: the new ID replaces the old one in a single rename, so /etc/machine-id is never missing or
 * empty (systemd would treat the next boot as a first boot and apply unit presets). journald and
 * systemd-networkd read the ID when they start, so both restart. The kubelet picks it up at its
 * next start; it only reports it.
 */
export const newMachineIdScript = `#!/bin/sh
set -eu

new_id=$(systemd-id128 new)
tmp=/etc/machine-id.cks-lab
printf '%s\\n' "$new_id" >"$tmp"
chmod 0444 "$tmp"
mv -f "$tmp" /etc/machine-id

# D-Bus reads its own copy wherever it is not a link to /etc/machine-id.
if [ -e /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then
  ln -sf /etc/machine-id /var/lib/dbus/machine-id
fi

systemctl restart systemd-journald.service
systemctl try-restart systemd-networkd.service
echo "cks-lab: new machine ID $new_id"
`;

/**
 * User data of a VM cloned from the golden image. The clone is a new VM, hence a new
 * firmware UUID, hence a new cloud-init instance-id: this runs once on its first boot. The disk
 * already holds a working kubeadm node, so this must not change its cluster identity — no kubeadm,
 * no hostname change (`preserve_hostname`; the kubelet's certificate names the node), no new
 * certificates. It only re-asserts what the node needs and is idempotent:
 * - its own machine ID, first, before anything else is (re)started;
 * - both NICs' network configuration, matched by the VM spec's fixed MACs (the same file the
 *   bootstrap wrote);
 * - the current readiness check (a golden disk may carry an older one);
 * - containerd, kubelet and the guest agent running.
 */
export function restoreUserData(role: Role): string {
  const { mac, labIp } = guestIdentity[role];
  return renderCloudConfig(
    [`cks-lab restore-only user data, ${role}: a clone of the golden image keeps its cluster identity.`, 'Never kubeadm here.'],
    {
      preserve_hostname: true,
      write_files: [
        file(NEW_MACHINE_ID_SCRIPT_PATH, newMachineIdScript, '0755'),
        nodeNetplanFile({ podMac: POD_NIC_MAC[role], labMac: mac, labIp }),
        file(READINESS_SCRIPT_PATH, readinessScript(role), '0755'),
        // A golden disk made before the terminal existed has no autologin yet.
        serialAutologinFile(),
      ],
      runcmd: [
        [NEW_MACHINE_ID_SCRIPT_PATH],
        ...SERIAL_AUTOLOGIN_COMMANDS,
        ['netplan', 'apply'],
        ['systemctl', 'enable', '--now', 'containerd.service', 'kubelet.service'],
        ['systemctl', 'start', 'qemu-guest-agent.service'],
      ],
    },
  );
}
