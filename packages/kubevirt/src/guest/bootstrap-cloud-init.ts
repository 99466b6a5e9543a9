import { dnsLabel, ValidationError } from '@cks-lab/core';
import yaml from 'js-yaml';
import { BOOTSTRAP_TOKEN_PATTERN, type BootstrapPki, CA_CERT_HASH_PATTERN } from './bootstrap-pki';
import { file, renderCloudConfig, shellQuote, type WriteFile } from './cloud-config';
import { type K8sRelease, k8sRelease } from './k8s-version';
import { nodeNetplanFile } from './netplan';
import { nodeSetupScript } from './node-setup-script';
import { controlPlaneReadyScript, READINESS_SCRIPT_PATH, workerReadyScript } from './readiness-script';
import { SERIAL_AUTOLOGIN_COMMANDS, serialAutologinFile } from './serial-console';

/**
 * Calico, because a CKS lab needs a CNI that enforces NetworkPolicy. Installed by its operator
 * from manifests pinned to this release; Calico v3.31 supports Kubernetes v1.34.
 */
export const CALICO_VERSION = 'v3.31.3';

export interface BootstrapParams {
  k8sVersion: string;
  labIp: string;
  hostname: string;
  /** Fixed MACs of the VM spec's pod-network and lab-network NICs. */
  podMac: string;
  labMac: string;
  pki: BootstrapPki;
  podCidr: string;
  serviceCidr: string;
  controlPlaneIp: string;
  /** Defaults to CALICO_VERSION. */
  calicoVersion?: string;
}

export const BOOTSTRAP_SCRIPT_PATH = '/usr/local/sbin/cks-lab-bootstrap';
const CONFIG_DIR = '/etc/cks-lab';
const KUBEADM_CONFIG_PATH = `${CONFIG_DIR}/kubeadm.yaml`;
const CALICO_INSTALLATION_PATH = `${CONFIG_DIR}/calico-installation.yaml`;
const API_SERVER_PORT = 6443;

/**
 * Control plane (docs/architecture.md#bootstrap-path): installs containerd and Kubernetes, writes the
 * platform-made CA first (so kubeadm uses it and the CA hash the worker pins is known up front),
 * runs `kubeadm init` on the fixed lab address with the pre-made bootstrap token, installs Calico
 * and the readiness check.
 */
export function controlPlaneUserData(params: BootstrapParams): string {
  const p = checked(params);
  const release = k8sRelease(p.k8sVersion);
  return nodeUserData(p, 'control plane: containerd, kubeadm init, Calico, readiness check', [
    file('/etc/kubernetes/pki/ca.crt', p.pki.caCertPem, '0644'),
    file('/etc/kubernetes/pki/ca.key', p.pki.caKeyPem, '0600'),
    file(KUBEADM_CONFIG_PATH, kubeadmInitConfig(p, release), '0600'),
    file(CALICO_INSTALLATION_PATH, calicoInstallation(p.podCidr), '0644'),
    file(READINESS_SCRIPT_PATH, controlPlaneReadyScript, '0755'),
    file(BOOTSTRAP_SCRIPT_PATH, controlPlaneBootstrapScript(p, release), '0755'),
  ]);
}

/**
 * Worker (docs/architecture.md#bootstrap-path): the same installation, then `kubeadm join` with the token and the
 * pinned CA hash — discovery fails unless the control plane proves it holds that CA. The worker
 * never sees the CA key.
 */
export function workerUserData(params: BootstrapParams): string {
  const p = checked(params);
  const release = k8sRelease(p.k8sVersion);
  return nodeUserData(p, 'worker: containerd, kubeadm join, readiness check', [
    file(READINESS_SCRIPT_PATH, workerReadyScript, '0755'),
    file(BOOTSTRAP_SCRIPT_PATH, workerBootstrapScript(p, release), '0755'),
  ]);
}

/** What both roles share: hostname, both NICs' network configuration, kernel settings for Kubernetes. */
function nodeUserData(p: BootstrapParams, summary: string, roleFiles: WriteFile[]): string {
  return renderCloudConfig([`cks-lab bootstrap user data, ${summary}.`], {
    hostname: p.hostname,
    preserve_hostname: false,
    manage_etc_hosts: true,
    write_files: [
      nodeNetplanFile({ podMac: p.podMac, labMac: p.labMac, labIp: p.labIp }),
      file('/etc/modules-load.d/kubernetes.conf', 'overlay\nbr_netfilter\n', '0644'),
      file('/etc/sysctl.d/90-kubernetes.conf', KERNEL_SETTINGS, '0644'),
      ...roleFiles,
      serialAutologinFile(),
    ],
    // The console's root prompt first: the learner can watch the bootstrap from it.
    runcmd: [...SERIAL_AUTOLOGIN_COMMANDS, [BOOTSTRAP_SCRIPT_PATH]],
  });
}

const KERNEL_SETTINGS = `net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
`;

function controlPlaneBootstrapScript(p: BootstrapParams, release: K8sRelease): string {
  const calicoVersion = p.calicoVersion ?? CALICO_VERSION;
  return `#!/bin/sh
# cks-lab bootstrap of the control plane, run once by cloud-init (runcmd); log: /var/log/cloud-init-output.log
set -eu
CALICO_VERSION=${shellQuote(calicoVersion)}
${nodeSetupScript(release, p.labIp)}
log "kubeadm init (CA from the platform: /etc/kubernetes/pki/ca.crt)"
kubeadm init --config ${KUBEADM_CONFIG_PATH}
export KUBECONFIG=/etc/kubernetes/admin.conf
install -d -m 0700 /root/.kube
cp /etc/kubernetes/admin.conf /root/.kube/config

log "Calico $CALICO_VERSION"
calico_manifests="https://raw.githubusercontent.com/projectcalico/calico/$CALICO_VERSION/manifests"
retry curl -fsSL -o ${CONFIG_DIR}/operator-crds.yaml "$calico_manifests/operator-crds.yaml"
retry curl -fsSL -o ${CONFIG_DIR}/tigera-operator.yaml "$calico_manifests/tigera-operator.yaml"
# Server-side apply: idempotent, and the CRDs are too big for client-side apply's annotation.
retry kubectl apply --server-side -f ${CONFIG_DIR}/operator-crds.yaml
retry kubectl apply --server-side -f ${CONFIG_DIR}/tigera-operator.yaml
kubectl wait --for=condition=Established --timeout=300s crd/installations.operator.tigera.io
retry kubectl apply --server-side -f ${CALICO_INSTALLATION_PATH}
log "control plane bootstrapped"
`;
}

function workerBootstrapScript(p: BootstrapParams, release: K8sRelease): string {
  return `#!/bin/sh
# cks-lab bootstrap of a worker, run once by cloud-init (runcmd); log: /var/log/cloud-init-output.log
set -eu
CONTROL_PLANE=${shellQuote(`${p.controlPlaneIp}:${API_SERVER_PORT}`)}
TOKEN=${shellQuote(p.pki.token)}
CA_CERT_HASH=${shellQuote(p.pki.caCertHash)}
NODE_NAME=${shellQuote(p.hostname)}
${nodeSetupScript(release, p.labIp)}
log "kubeadm join $CONTROL_PLANE (CA pinned: $CA_CERT_HASH)"
# No retry around it: kubeadm retries discovery itself, and a half-done join needs a reset, not a rerun.
kubeadm join "$CONTROL_PLANE" --token "$TOKEN" --discovery-token-ca-cert-hash "$CA_CERT_HASH" --node-name "$NODE_NAME"
log "worker joined"
`;
}

/** kubeadm v1beta4 (Kubernetes ≥ 1.31) configuration for `kubeadm init`. */
function kubeadmInitConfig(p: BootstrapParams, release: K8sRelease): string {
  const documents = [
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'InitConfiguration',
      bootstrapTokens: [
        {
          token: p.pki.token,
          description: 'cks-lab: the worker joins with it',
          ttl: '24h0m0s',
          usages: ['signing', 'authentication'],
          groups: ['system:bootstrappers:kubeadm:default-node-token'],
        },
      ],
      localAPIEndpoint: { advertiseAddress: p.labIp, bindPort: API_SERVER_PORT },
      nodeRegistration: { name: p.hostname, criSocket: 'unix:///run/containerd/containerd.sock' },
    },
    {
      apiVersion: 'kubeadm.k8s.io/v1beta4',
      kind: 'ClusterConfiguration',
      kubernetesVersion: release.version,
      // Leaf certificates use the same algorithm as the platform-generated CA (see bootstrap-pki.ts).
      encryptionAlgorithm: 'ECDSA-P256',
      networking: { podSubnet: p.podCidr, serviceSubnet: p.serviceCidr, dnsDomain: 'cluster.local' },
    },
    { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'systemd' },
  ];
  return documents.map((document) => yaml.dump(document, { lineWidth: -1 })).join('---\n');
}

/**
 * Calico through its operator. VXLAN on every path: the lab segment then only ever carries node
 * addresses (no port-security surprises on the overlay), and Calico derives its MTU from lab0's.
 * Node addresses come from the Node objects, i.e. the kubelet's --node-ip (the lab address).
 */
function calicoInstallation(podCidr: string): string {
  return yaml.dump({
    apiVersion: 'operator.tigera.io/v1',
    kind: 'Installation',
    metadata: { name: 'default' },
    spec: {
      calicoNetwork: {
        ipPools: [
          {
            name: 'default-ipv4-ippool',
            cidr: podCidr,
            blockSize: 26,
            encapsulation: 'VXLAN',
            natOutgoing: 'Enabled',
            nodeSelector: 'all()',
          },
        ],
        nodeAddressAutodetectionV4: { kubernetes: 'NodeInternalIP' },
      },
    },
  });
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** Everything here ends up in YAML and shell: refuse anything that is not what it claims to be. */
function checked(p: BootstrapParams): BootstrapParams {
  const fail = (what: string, value: string) => {
    throw new ValidationError(`bootstrap user data: ${what} "${value}" is malformed`);
  };
  k8sRelease(p.k8sVersion);
  for (const [what, ip] of [
    ['lab IP', p.labIp],
    ['control-plane IP', p.controlPlaneIp],
  ] as const)
    if (!IPV4.test(ip)) fail(what, ip);
  for (const [what, cidr] of [
    ['pod CIDR', p.podCidr],
    ['service CIDR', p.serviceCidr],
  ] as const) {
    const [ip = '', prefix = ''] = cidr.split('/');
    if (!IPV4.test(ip) || !/^\d+$/.test(prefix) || Number(prefix) > 32) fail(what, cidr);
  }
  for (const [what, mac] of [
    ['pod MAC address', p.podMac],
    ['lab MAC address', p.labMac],
  ] as const)
    if (!MAC.test(mac)) fail(what, mac);
  dnsLabel(p.hostname);
  if (!BOOTSTRAP_TOKEN_PATTERN.test(p.pki.token)) fail('bootstrap token', '<redacted>');
  if (!CA_CERT_HASH_PATTERN.test(p.pki.caCertHash)) fail('CA cert hash', p.pki.caCertHash);
  if (p.calicoVersion !== undefined && !/^v\d+\.\d+\.\d+$/.test(p.calicoVersion)) fail('Calico version', p.calicoVersion);
  return p;
}
