import { file, type WriteFile } from './cloud-config';

export const SERIAL_AUTOLOGIN_PATH = '/etc/systemd/system/serial-getty@ttyS0.service.d/50-cks-lab-autologin.conf';

/**
 * The learner's terminal is the VM's serial console (KubeVirt's `console` subresource): agetty logs
 * root in there, so the learner lands at a root prompt. The first empty ExecStart clears the
 * distribution's; `-f` in login's options skips the password for the autologin user (systemd's
 * documented recipe). Only ttyS0: the VNC console and ssh still ask for credentials.
 */
export const serialAutologinDropIn = `[Service]
ExecStart=
ExecStart=-/sbin/agetty -o '-p -f -- \\\\u' --keep-baud --autologin root 115200,57600,38400,9600 - $TERM
`;

export function serialAutologinFile(): WriteFile {
  return file(SERIAL_AUTOLOGIN_PATH, serialAutologinDropIn, '0644');
}

/** The getty on ttyS0 started before cloud-init wrote the drop-in: restart it with the new ExecStart. */
export const SERIAL_AUTOLOGIN_COMMANDS: string[][] = [
  ['systemctl', 'daemon-reload'],
  ['systemctl', 'restart', 'serial-getty@ttyS0.service'],
];
