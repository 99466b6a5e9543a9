import type { Role } from '@cks-lab/core';

/**
 * The guest readiness checks (docs/architecture.md#cluster-facts, 7), installed as /usr/local/bin/cks-lab-ready and run by
 * the VMs' readinessProbe through the guest agent, so `VM.status.ready` means "the lab works".
 * POSIX sh (dash on Ubuntu); GNU `date -d` parses the API's RFC 3339 times.
 *
 * Environment overrides, so a test can run them against a test API server with a real kubectl:
 * KUBECTL (kubectl binary), KUBECONFIG, BOOT_TIME (epoch seconds; default /proc/stat btime),
 * READY_NAMESPACES (control plane), NODE_NAME and KUBELET_HEALTHZ_URL (worker).
 *
 * Template literals: `\${` is the shell's `${`, `\\n` the two characters jsonpath turns into a newline.
 */

/** Where the bootstrap and restore user data install the check; the VMs' readinessProbe runs it. */
export const READINESS_SCRIPT_PATH = '/usr/local/bin/cks-lab-ready';

/** Strict about unset variables; PATH completed for the guest agent's bare environment. */
const preamble = `set -u
PATH="\${PATH:-/usr/bin:/bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"`;

/** Helpers and the boot time both checks compare API times with. */
const helpers = `fail() {
  echo "not ready: $*"
  exit 1
}

# Bounded kubectl calls: the probe's timeout must cover all of them.
kc() {
  "$kubectl_bin" --kubeconfig "$kubeconfig" --request-timeout=5s "$@"
}

# Seconds since the epoch of an RFC 3339 time.
epoch() {
  date -u -d "$1" +%s 2>/dev/null
}

# A time the API reported is from this boot (a restored etcd holds times from before the snapshot).
since_boot() {
  seconds=$(epoch "$1") || return 1
  [ "$seconds" -ge "$boot" ]
}

boot="\${BOOT_TIME:-$(awk '/^btime / { print $2 }' /proc/stat)}"
case "$boot" in
  '' | *[!0-9]*) fail "boot time unknown" ;;
esac
`;

/**
 * Control plane: the whole lab cluster is usable. Usage: cks-lab-ready [EXPECTED_NODES, default 2].
 * 1. the API server answers /readyz;
 * 2. at least EXPECTED_NODES nodes exist, each Ready and each with its Lease in kube-node-lease
 *    renewed since this VM booted — right after a restore, Node objects in etcd say Ready for about
 *    40 s whatever runs, but a renewal after boot cannot be left over from the snapshot;
 * 3. every pod in READY_NAMESPACES (default "kube-system calico-system": CoreDNS, kube-proxy, the
 *    CNI) is Ready with all its containers started since boot (again: not a stale status), and each
 *    of those namespaces has pods at all. Terminal pods (Succeeded/Failed) are left to their controllers.
 */
export const controlPlaneReadyScript = `#!/bin/sh
# cks-lab readiness check of the lab cluster, control plane (see readiness-script.ts).
${preamble}
kubectl_bin="\${KUBECTL:-kubectl}"
kubeconfig="\${KUBECONFIG:-/etc/kubernetes/admin.conf}"
namespaces="\${READY_NAMESPACES:-kube-system calico-system}"
expected="\${1:-2}"
${helpers}
case "$expected" in
  '' | *[!0-9]*) fail "expected node count '$expected' is not a number" ;;
esac

readyz=$(kc get --raw /readyz 2>&1) || fail "API server: $readyz"
[ "$readyz" = ok ] || fail "API server /readyz: $readyz"

nodes=$(kc get nodes -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}') ||
  fail "cannot list nodes"
leases=$(kc -n kube-node-lease get leases -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.spec.renewTime}{"\\n"}{end}') ||
  fail "cannot list node leases"
count=0
while IFS='|' read -r node status; do
  [ -n "$node" ] || continue
  count=$((count + 1))
  [ "$status" = True ] || fail "node $node is not Ready"
  renewed=$(printf '%s\\n' "$leases" | awk -F'|' -v node="$node" '$1 == node { print $2 }')
  [ -n "$renewed" ] || fail "node $node has no lease"
  since_boot "$renewed" || fail "node $node: lease not renewed since boot (last $renewed)"
done <<NODES
$nodes
NODES
[ "$count" -ge "$expected" ] || fail "$count of $expected nodes"

for namespace in $namespaces; do
  pods=$(kc -n "$namespace" get pods -o jsonpath='{range .items[*]}{.metadata.name}{"|"}{.status.phase}{"|"}{.status.conditions[?(@.type=="Ready")].status}{"|"}{.status.containerStatuses[*].state.running.startedAt}{"\\n"}{end}') ||
    fail "cannot list pods in $namespace"
  [ -n "$pods" ] || fail "no pods in $namespace yet"
  while IFS='|' read -r pod phase ready started; do
    [ -n "$pod" ] || continue
    case "$phase" in
      Succeeded | Failed) continue ;;
    esac
    [ "$ready" = True ] || fail "pod $namespace/$pod is not Ready"
    [ -n "$started" ] || fail "pod $namespace/$pod has no running containers"
    for time in $started; do
      since_boot "$time" || fail "pod $namespace/$pod: status from before boot"
    done
  done <<PODS
$pods
PODS
done

echo "ready: $count nodes"
`;

/**
 * Worker: its kubelet is healthy and it has joined — kubelet.conf exists, its own Node object
 * (read with the kubelet's credentials, which the node authorizer allows) is Ready, and its Lease
 * was renewed since boot (the same restore caveat as on the control plane).
 */
export const workerReadyScript = `#!/bin/sh
# cks-lab readiness check of the lab cluster, worker (see readiness-script.ts).
${preamble}
kubectl_bin="\${KUBECTL:-kubectl}"
kubeconfig="\${KUBECONFIG:-/etc/kubernetes/kubelet.conf}"
node="\${NODE_NAME:-$(uname -n)}"
healthz_url="\${KUBELET_HEALTHZ_URL:-http://127.0.0.1:10248/healthz}"
${helpers}
[ -s "$kubeconfig" ] || fail "not joined: no $kubeconfig"

health=$(curl -fsS --max-time 3 "$healthz_url" 2>&1) || fail "kubelet: $health"
[ "$health" = ok ] || fail "kubelet healthz: $health"

status=$(kc get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>&1) ||
  fail "node $node not registered: $status"
[ "$status" = True ] || fail "node $node is not Ready"

renewed=$(kc -n kube-node-lease get lease "$node" -o jsonpath='{.spec.renewTime}' 2>&1) ||
  fail "node $node has no lease: $renewed"
since_boot "$renewed" || fail "node $node: lease not renewed since boot (last $renewed)"

echo "ready: node $node"
`;

/** The readiness script a role's VM gets. */
export function readinessScript(role: Role): string {
  return role === 'control-plane' ? controlPlaneReadyScript : workerReadyScript;
}
