import { DEFAULT_CONFIG, names, ROLES, type Role } from '@cks-lab/core';

/** CPU and memory of one lab VM. */
export interface VmResources {
  cores: number;
  /** Guest memory as a Kubernetes quantity, e.g. "4Gi". */
  memory: string;
}

/**
 * How the lab clusters are built: everything here is configuration, not a constant of the design
 * (storage, base image, Kubernetes version, inner CIDRs, the secondary network's CNI, VM sizes).
 */
export interface ClusterSettings {
  /** StorageClass of the VMs' root disks and the golden copies; the cluster default when absent. */
  storageClassName?: string;
  /** Root disk size (quantity). The golden copies are at least this big. */
  diskSize: string;
  /** CDI DataSource of the base OS image the bootstrap strategy starts from. */
  baseImage: { namespace: string; name: string };
  /** Kubernetes version installed by the bootstrap strategy, e.g. "v1.34.2". */
  k8sVersion: string;
  /** Inner (lab) cluster's pod CIDR. */
  podCidr: string;
  /** Inner (lab) cluster's service CIDR. */
  serviceCidr: string;
  /** The per-session secondary L2 network carrying the fixed node addresses: a cloned kubeadm cluster keeps its node IPs. */
  labNetwork: {
    /** CNI configuration (JSON string) of the session's NetworkAttachmentDefinition. */
    cniConfig: (sessionId: string) => string;
  };
  /**
   * The host cluster's DNS pods: the session NetworkPolicy lets the VMs reach them, because
   * masquerade hands the guests the virt-launcher pod's resolv.conf (the host cluster's DNS).
   * `ports` are the pods' own ports (a NetworkPolicy sees the Service's target port): CoreDNS
   * answers on 53, OpenShift's DNS pods on 5353 (namespace `openshift-dns`, pod label
   * `dns.operator.openshift.io/daemonset-dns: default`). Each is allowed over UDP and TCP.
   */
  hostDns: { namespace: string; podLabels: Record<string, string>; ports: number[] };
  resources: Record<Role, VmResources>;
}

/**
 * OVN-Kubernetes `layer2` topology without subnets: an isolated L2 segment with no IPAM, the
 * guests configure their static addresses. The network name is unique per session, which is what
 * keeps sessions apart (two NADs with the same network name would share a segment).
 */
export function ovnLayer2CniConfig(sessionId: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: `cks-lab-${sessionId}`,
    type: 'ovn-k8s-cni-overlay',
    topology: 'layer2',
    netAttachDefName: `${names.namespace(sessionId)}/${names.network()}`,
  });
}

/**
 * Why these inner CIDRs (they must not overlap 10.0.2.0/24, used by masquerade, or the host cluster):
 * - the guests' DNS server is the host cluster's DNS Service IP (masquerade DHCP passes on the
 *   virt-launcher pod's resolv.conf), typically 10.96.0.10 in the kubeadm default 10.96.0.0/12
 *   (10.96.0.0–10.111.255.255). An inner service CIDR inside it would capture that address in the
 *   guest's kube-proxy rules, so the inner services start right after it, at 10.112.0.0/16;
 * - replies to platform pods that reach the inner API server through the session Service are
 *   routed by the guest; an inner pod CIDR equal to the host's would send them into the inner CNI.
 *   10.244.0.0/16 (kubeadm/flannel, kind, minikube, AKS kubenet) and 10.42.0.0/16 (k3s/RKE2),
 *   10.128.0.0/14 (OpenShift/OVN-K) are the common host pod ranges, so the inner pods use
 *   10.200.0.0/16; Calico's 192.168.0.0/16 default would also swallow the lab network
 *   192.168.100.0/24, which is why the pool is always set explicitly.
 * Both are settings: a host cluster that uses them must configure others.
 */
export const DEFAULT_POD_CIDR = '10.200.0.0/16';
export const DEFAULT_SERVICE_CIDR = '10.112.0.0/16';

export const DEFAULT_CLUSTER_SETTINGS: ClusterSettings = {
  diskSize: '20Gi',
  baseImage: { namespace: 'vm-templates', name: 'ubuntu-2404-base' },
  k8sVersion: DEFAULT_CONFIG.k8sVersion,
  podCidr: DEFAULT_POD_CIDR,
  serviceCidr: DEFAULT_SERVICE_CIDR,
  labNetwork: { cniConfig: ovnLayer2CniConfig },
  hostDns: { namespace: 'kube-system', podLabels: { 'k8s-app': 'kube-dns' }, ports: [53, 5353] },
  resources: Object.fromEntries(ROLES.map((role) => [role, { cores: 2, memory: '4Gi' }])) as Record<Role, VmResources>,
};

/** Settings with some fields replaced (tests, the app's configuration). */
export function clusterSettings(overrides: Partial<ClusterSettings> = {}): ClusterSettings {
  return { ...DEFAULT_CLUSTER_SETTINGS, ...overrides };
}
