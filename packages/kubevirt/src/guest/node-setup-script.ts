import { shellQuote } from './cloud-config';
import type { K8sRelease } from './k8s-version';

/**
 * The part of the bootstrap script both roles share: lab network up, kernel prerequisites,
 * containerd (systemd cgroups, kubeadm's pause image), qemu-guest-agent (the readiness probe runs
 * through it) and kubelet/kubeadm/kubectl of exactly the configured release from pkgs.k8s.io,
 * held so unattended upgrades leave them alone. POSIX sh; everything downloaded is retried.
 */
export function nodeSetupScript(release: K8sRelease, labIp: string): string {
  return `K8S_VERSION=${shellQuote(release.version)}
K8S_MINOR=${shellQuote(release.minor)}
K8S_APT_VERSION=${shellQuote(release.aptVersion)}
LAB_IP=${shellQuote(labIp)}
export DEBIAN_FRONTEND=noninteractive

log() {
  echo "cks-lab: $*"
}

# Retries a command that needs the network (mirrors and registries have bad minutes).
retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 5 ]; then
      return 1
    fi
    attempt=$((attempt + 1))
    sleep 10
  done
}

log "lab network"
netplan apply

log "kernel prerequisites"
modprobe overlay
modprobe br_netfilter
sysctl --system >/dev/null
swapoff -a

log "containerd, qemu-guest-agent"
retry apt-get update -q
retry apt-get install -y -q apt-transport-https ca-certificates curl gpg containerd qemu-guest-agent
systemctl start qemu-guest-agent

log "kubelet, kubeadm, kubectl $K8S_VERSION"
install -d -m 0755 /etc/apt/keyrings
retry curl -fsSL -o /etc/apt/keyrings/kubernetes-apt-keyring.asc "https://pkgs.k8s.io/core:/stable:/$K8S_MINOR/deb/Release.key"
gpg --batch --yes --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg /etc/apt/keyrings/kubernetes-apt-keyring.asc
echo "deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/$K8S_MINOR/deb/ /" >/etc/apt/sources.list.d/kubernetes.list
retry apt-get update -q
retry apt-get install -y -q "kubelet=$K8S_APT_VERSION" "kubeadm=$K8S_APT_VERSION" "kubectl=$K8S_APT_VERSION"
apt-mark hold kubelet kubeadm kubectl

# The node address is the fixed lab address, not the masquerade address every VM shares (10.0.2.2).
echo "KUBELET_EXTRA_ARGS=--node-ip=$LAB_IP" >/etc/default/kubelet

log "containerd configuration"
install -d -m 0755 /etc/containerd
containerd config default >/etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
pause_image=$(kubeadm config images list --kubernetes-version "$K8S_VERSION" | grep '/pause:')
sed -i "s#sandbox_image = .*#sandbox_image = \\"$pause_image\\"#" /etc/containerd/config.toml
systemctl restart containerd
systemctl enable containerd kubelet
`;
}
