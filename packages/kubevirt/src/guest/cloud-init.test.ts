import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { guestIdentity, ROLES } from '@cks-lab/core';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLUSTER_SETTINGS } from '../manifests/settings';
import { bootstrapParams } from '../manifests/user-data';
import { type BootstrapParams, CALICO_VERSION, controlPlaneUserData, workerUserData } from './bootstrap-cloud-init';
import { type BootstrapPki, generateBootstrapPki } from './bootstrap-pki';
import { nodeNetplan, POD_NIC_MAC } from './netplan';
import { controlPlaneReadyScript, workerReadyScript } from './readiness-script';
import { NEW_MACHINE_ID_SCRIPT_PATH, newMachineIdScript, restoreUserData } from './restore-cloud-init';
import { SERIAL_AUTOLOGIN_PATH } from './serial-console';
import { type CloudConfigFile, parseCloudConfig, run, scriptShell, shellcheck, toolAvailable, withTempDir } from './tools-for-tests';

let pki: BootstrapPki;
let userData: Record<string, string>;
beforeAll(async () => {
  pki = await generateBootstrapPki();
  userData = {
    'bootstrap control plane': controlPlaneUserData(bootstrapParams('control-plane', DEFAULT_CLUSTER_SETTINGS, pki)),
    'bootstrap worker': workerUserData(bootstrapParams('worker', DEFAULT_CLUSTER_SETTINGS, pki)),
    'restore control plane': restoreUserData('control-plane'),
    'restore worker': restoreUserData('worker'),
  };
});

const files = (data: string): CloudConfigFile[] => parseCloudConfig(data).write_files ?? [];
const fileAt = (data: string, path: string) => files(data).find((entry) => entry.path === path);

describe('every user data', () => {
  it.runIf(toolAvailable('cloud-init'))('passes `cloud-init schema`', () => {
    for (const [name, data] of Object.entries(userData)) {
      const result = withTempDir({ 'user-data.yaml': data }, (dir) =>
        run('cloud-init', ['schema', '--config-file', join(dir, 'user-data.yaml')]),
      );
      expect(result.status, `${name}: ${result.output}`).toBe(0);
      expect(result.output).toMatch(/Valid cloud-config/);
    }
  });

  it.runIf(toolAvailable('cloud-init'))('(and `cloud-init schema` does catch mistakes)', () => {
    const broken = userData['restore worker']!.replace('permissions:', 'permsissions:');
    const result = withTempDir({ 'user-data.yaml': broken }, (dir) =>
      run('cloud-init', ['schema', '--config-file', join(dir, 'user-data.yaml')]),
    );
    expect(result.status).not.toBe(0);
  });

  it.runIf(toolAvailable('shellcheck'))('embeds only shell scripts that pass shellcheck', () => {
    let checked = 0;
    for (const [name, data] of Object.entries(userData)) {
      for (const entry of files(data)) {
        const shell = scriptShell(entry.content);
        if (!shell) continue;
        expect(shellcheck(entry.content, shell), `${name}: ${entry.path}`).toBe('');
        checked++;
      }
    }
    expect(checked).toBe(8);
  });

  it("logs root in on the serial console (the learner's terminal), restarting its getty before anything long runs", () => {
    for (const [name, data] of Object.entries(userData)) {
      const dropIn = fileAt(data, SERIAL_AUTOLOGIN_PATH);
      expect(dropIn?.permissions, name).toBe('0644');
      const lines = dropIn!.content.trim().split('\n');
      // An empty ExecStart= first: systemd refuses a second ExecStart for a simple service otherwise.
      expect(lines).toEqual([
        '[Service]',
        'ExecStart=',
        "ExecStart=-/sbin/agetty -o '-p -f -- \\\\u' --keep-baud --autologin root 115200,57600,38400,9600 - $TERM",
      ]);
      const runcmd = parseCloudConfig(data).runcmd as string[][];
      const restart = runcmd.findIndex((c) => c.join(' ') === 'systemctl restart serial-getty@ttyS0.service');
      expect(runcmd[restart - 1], name).toEqual(['systemctl', 'daemon-reload']);
      const longRunning = runcmd.findIndex((c) => c[0]!.endsWith('bootstrap') || c[0] === 'netplan');
      expect(restart, name).toBeLessThan(longRunning);
    }
  });

  it('runs commands as argument lists, never through a shell string', () => {
    for (const data of Object.values(userData)) {
      const config = parseCloudConfig(data);
      expect(config.bootcmd).toBeUndefined();
      for (const command of config.runcmd ?? []) expect(Array.isArray(command)).toBe(true);
    }
  });

  it('never skips CA verification', () => {
    for (const data of Object.values(userData)) expect(data).not.toMatch(/unsafe-skip-ca-verification/);
  });

  it('gives the lab NIC (matched by its fixed MAC) its fixed address, renamed lab0, and the pod NIC DHCP by its fixed MAC', () => {
    for (const role of ROLES) {
      const { mac, labIp } = guestIdentity[role];
      const podMac = POD_NIC_MAC[role];
      const ofRole = Object.values(userData).filter((d) => d.includes(mac));
      expect(ofRole).toHaveLength(2);
      for (const data of ofRole) {
        const netplan = fileAt(data, '/etc/netplan/60-cks-lab.yaml')!;
        expect(netplan.permissions).toBe('0600');
        expect(netplan.content).toBe(nodeNetplan({ podMac, labMac: mac, labIp }));
        expect(yaml.load(netplan.content)).toEqual({
          network: {
            version: 2,
            ethernets: {
              // No set-name: cloud-init's own entry for this NIC names it.
              pod: { match: { macaddress: podMac }, dhcp4: true },
              lab0: {
                match: { macaddress: mac },
                'set-name': 'lab0',
                dhcp4: false,
                dhcp6: false,
                'link-local': [],
                addresses: [`${labIp}/24`],
                mtu: 1400,
              },
            },
          },
        });
      }
    }
    expect(new Set(Object.values(POD_NIC_MAC)).size).toBe(2);
    expect(Object.values(POD_NIC_MAC)).not.toContain(guestIdentity['control-plane'].mac);
    expect(Object.values(POD_NIC_MAC)).not.toContain(guestIdentity.worker.mac);
  });
});

describe('restore user data', () => {
  for (const role of ROLES) {
    it(`(${role}) never runs kubeadm, never renames the host, holds no secrets`, () => {
      const data = restoreUserData(role);
      expect(data).not.toMatch(/kubeadm\s+(init|join|reset)/);
      expect(data).not.toMatch(/hostnamectl/);
      expect(data).not.toMatch(/PRIVATE KEY|--token/);
      const config = parseCloudConfig(data);
      expect(config.preserve_hostname).toBe(true);
      expect(config.hostname).toBeUndefined();
      expect(config.fqdn).toBeUndefined();
      expect(config.runcmd).toEqual([
        [NEW_MACHINE_ID_SCRIPT_PATH],
        ['systemctl', 'daemon-reload'],
        ['systemctl', 'restart', 'serial-getty@ttyS0.service'],
        ['netplan', 'apply'],
        ['systemctl', 'enable', '--now', 'containerd.service', 'kubelet.service'],
        ['systemctl', 'start', 'qemu-guest-agent.service'],
      ]);
      expect(fileAt(data, '/usr/local/bin/cks-lab-ready')).toMatchObject({
        content: role === 'control-plane' ? controlPlaneReadyScript : workerReadyScript,
        permissions: '0755',
      });
    });

    it(`(${role}) gives the clone its own machine ID first, replacing the golden one in one rename`, () => {
      const data = restoreUserData(role);
      expect(parseCloudConfig(data).runcmd?.[0]).toEqual([NEW_MACHINE_ID_SCRIPT_PATH]);
      expect(fileAt(data, NEW_MACHINE_ID_SCRIPT_PATH)).toMatchObject({ content: newMachineIdScript, permissions: '0755' });
    });
  }

  it('the machine ID script writes a fresh ID atomically, links D-Bus to it and restarts what read the old one', () => {
    // Run on a scratch root: the script's absolute paths are moved under it, systemctl and systemd-id128 stubbed.
    withTempDir(
      {
        'etc/machine-id': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n',
        'dbus/machine-id': 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n',
        'bin/systemd-id128': '#!/bin/sh\necho 0123456789abcdef0123456789abcdef\n',
        'bin/systemctl': '#!/bin/sh\necho "$@" >>"$SYSTEMCTL_LOG"\n',
      },
      (dir) => {
        const script = newMachineIdScript.replaceAll('/etc/', `${dir}/etc/`).replaceAll('/var/lib/dbus/', `${dir}/dbus/`);
        const result = run('sh', ['-c', script], {
          env: { ...process.env, PATH: `${dir}/bin:${process.env.PATH}`, SYSTEMCTL_LOG: `${dir}/systemctl.log` },
        });
        expect(result.status, result.output).toBe(0);
        expect(readFileSync(`${dir}/etc/machine-id`, 'utf8')).toBe('0123456789abcdef0123456789abcdef\n');
        expect(statSync(`${dir}/etc/machine-id`).mode & 0o777).toBe(0o444);
        expect(readdirSync(`${dir}/etc`)).toEqual(['machine-id']);
        expect(readlinkSync(`${dir}/dbus/machine-id`)).toBe(`${dir}/etc/machine-id`);
        expect(readFileSync(`${dir}/systemctl.log`, 'utf8')).toBe(
          'restart systemd-journald.service\ntry-restart systemd-networkd.service\n',
        );
      },
    );
  });
});

describe('bootstrap user data', () => {
  const script = (data: string) => fileAt(data, '/usr/local/sbin/cks-lab-bootstrap')!.content;

  it('control plane: writes the platform CA before kubeadm init, so the worker can pin its hash', () => {
    const data = userData['bootstrap control plane']!;
    expect(fileAt(data, '/etc/kubernetes/pki/ca.crt')).toMatchObject({ content: pki.caCertPem, permissions: '0644' });
    expect(fileAt(data, '/etc/kubernetes/pki/ca.key')).toMatchObject({ content: pki.caKeyPem, permissions: '0600' });
    expect(parseCloudConfig(data).runcmd).toEqual([
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'restart', 'serial-getty@ttyS0.service'],
      ['/usr/local/sbin/cks-lab-bootstrap'],
    ]);
    expect(script(data)).toMatch(/kubeadm init --config \/etc\/cks-lab\/kubeadm.yaml/);
    expect(fileAt(data, '/usr/local/bin/cks-lab-ready')!.content).toBe(controlPlaneReadyScript);
  });

  it('control plane: kubeadm init on the lab address, with the node name, the token and the CIDRs', () => {
    const [init, cluster, kubelet] = yaml.loadAll(
      fileAt(userData['bootstrap control plane']!, '/etc/cks-lab/kubeadm.yaml')!.content,
    ) as any[];
    expect(init).toMatchObject({
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      bootstrapTokens: [{ token: pki.token }],
      localAPIEndpoint: { advertiseAddress: '192.168.100.10', bindPort: 6443 },
      nodeRegistration: { name: 'controlplane' },
    });
    expect(cluster).toMatchObject({
      kind: 'ClusterConfiguration',
      kubernetesVersion: 'v1.34.2',
      networking: { podSubnet: DEFAULT_CLUSTER_SETTINGS.podCidr, serviceSubnet: DEFAULT_CLUSTER_SETTINGS.serviceCidr },
    });
    expect(kubelet).toMatchObject({ kind: 'KubeletConfiguration', cgroupDriver: 'systemd' });
  });

  it('control plane: installs Calico pinned by version, its pool on the pod CIDR', () => {
    const data = userData['bootstrap control plane']!;
    expect(script(data)).toContain(`CALICO_VERSION='${CALICO_VERSION}'`);
    expect(script(data)).toContain('https://raw.githubusercontent.com/projectcalico/calico/$CALICO_VERSION/manifests');
    const installation = yaml.load(fileAt(data, '/etc/cks-lab/calico-installation.yaml')!.content) as any;
    expect(installation.spec.calicoNetwork.ipPools[0].cidr).toBe(DEFAULT_CLUSTER_SETTINGS.podCidr);
    expect(installation.spec.calicoNetwork.nodeAddressAutodetectionV4).toEqual({ kubernetes: 'NodeInternalIP' });
  });

  it('both: install containerd and kubelet/kubeadm/kubectl of the configured release from pkgs.k8s.io, node IP on the lab address', () => {
    for (const role of ROLES) {
      const data = userData[`bootstrap ${role === 'control-plane' ? 'control plane' : 'worker'}`]!;
      const text = script(data);
      expect(text).toContain("K8S_MINOR='v1.34'");
      expect(text).toContain("K8S_APT_VERSION='1.34.2-*'");
      expect(text).toContain('https://pkgs.k8s.io/core:/stable:/$K8S_MINOR/deb/');
      expect(text).toMatch(/apt-get install -y -q "kubelet=\$K8S_APT_VERSION" "kubeadm=\$K8S_APT_VERSION" "kubectl=\$K8S_APT_VERSION"/);
      expect(text).toContain('apt-mark hold kubelet kubeadm kubectl');
      expect(text).toContain(`LAB_IP='${guestIdentity[role].labIp}'`);
      expect(text).toContain('KUBELET_EXTRA_ARGS=--node-ip=$LAB_IP');
      expect(parseCloudConfig(data).hostname).toBe(guestIdentity[role].hostname);
    }
  });

  it('worker: joins the control plane with the token and the pinned CA hash, never sees the CA key', () => {
    const data = userData['bootstrap worker']!;
    const text = script(data);
    expect(text).toContain("CONTROL_PLANE='192.168.100.10:6443'");
    expect(text).toContain(`TOKEN='${pki.token}'`);
    expect(text).toContain(`CA_CERT_HASH='${pki.caCertHash}'`);
    expect(text).toMatch(
      /kubeadm join "\$CONTROL_PLANE" --token "\$TOKEN" --discovery-token-ca-cert-hash "\$CA_CERT_HASH" --node-name "\$NODE_NAME"/,
    );
    expect(data).not.toContain('PRIVATE KEY');
    expect(data).not.toMatch(/kubeadm init/);
    expect(fileAt(data, '/usr/local/bin/cks-lab-ready')!.content).toBe(workerReadyScript);
  });

  it('refuses parameters that would not be what they claim (they end up in YAML and shell)', () => {
    const good = (): BootstrapParams => bootstrapParams('worker', DEFAULT_CLUSTER_SETTINGS, pki);
    expect(() => workerUserData({ ...good(), k8sVersion: '1.34' })).toThrow(/Kubernetes version/);
    expect(() => workerUserData({ ...good(), labIp: '192.168.100.256' })).toThrow(/lab IP/);
    expect(() => workerUserData({ ...good(), controlPlaneIp: "1.2.3.4'; reboot; '" })).toThrow(/control-plane IP/);
    expect(() => workerUserData({ ...good(), podCidr: '10.200.0.0/33' })).toThrow(/pod CIDR/);
    expect(() => workerUserData({ ...good(), labMac: '02:C5:1A:00:00:11:00' })).toThrow(/lab MAC/);
    expect(() => workerUserData({ ...good(), podMac: '02:c5:1a:00:01' })).toThrow(/pod MAC/);
    expect(() => workerUserData({ ...good(), hostname: 'Node01' })).toThrow(/DNS-1123/);
    expect(() => workerUserData({ ...good(), pki: { ...pki, token: 'abc' } })).toThrow(/bootstrap token/);
    expect(() => controlPlaneUserData({ ...good(), calicoVersion: 'v3.31.3; rm -rf /' })).toThrow(/Calico version/);
  });
});
