import { assertSessionId, GOLDEN_NAMESPACE, names } from '@cks-lab/core';
import type {
  IoK8sApiCoreV1Namespace,
  IoK8sApiCoreV1Service,
  IoK8sApiNetworkingV1NetworkPolicy,
  IoK8sApiRbacV1RoleBinding,
} from '@kubevirt-ui-ext/kubevirt-api/kubernetes';
import type { KubeObject } from '../object-api';
import { R } from '../resources';
import { kubeObject } from './kube-object';
import { LABELS, sessionLabels } from './labels';
import type { ClusterSettings } from './settings';

/** The platform's own namespace; only it (besides the session itself) may reach a session's VMs. */
export const PLATFORM_NAMESPACE = 'cks-lab';
/** ClusterRole (installed with the platform) granting `create` on cdi.kubevirt.io datavolumes/source. */
export const GOLDEN_CLONER_CLUSTER_ROLE = 'cks-lab-golden-cloner';
export const API_SERVER_PORT = 6443;

/** Well-known label every namespace carries (set by the API server), the stable way to select one by name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * Labels of a session namespace beyond cks-lab's own:
 * - Pod Security admission `baseline`: KubeVirt ≥ 1.6 no longer labels namespaces for its
 *   virt-launcher pods (the PSA feature gate is GA and inert, kubevirt v1.8.0
 *   pkg/virt-config/featuregate/inactive.go), and a virt-launcher pod does not pass `restricted` —
 *   its compute container adds NET_BIND_SERVICE and it has no seccomp profile unless the cluster
 *   configures one (pkg/virt-controller/services/template.go computePodSecurityContext) — so a
 *   cluster that enforces `restricted` by default would refuse the VMs' pods
 *   (pkg/virt-controller/watch/vmi/lifecycle.go "violates PodSecurity");
 * - KubeMacPool opt-out: every session's VMs use the same fixed MACs (a restored node keeps its
 *   identity), which KubeMacPool — on by default in OpenShift Virtualization — would refuse as
 *   collisions across namespaces. The MACs never leave the session: the pod NIC is masqueraded
 *   and the lab network is a separate L2 segment per session.
 */
export const SESSION_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': 'baseline',
  'mutatevirtualmachines.kubemacpool.io': 'ignore',
} as const;

/**
 * A session's scaffolding, in creation order: the namespace first, because
 * everything else but the RoleBindings (which live in the clone source namespaces) is created inside it.
 */
export function sessionBaseObjects(sessionId: string, settings: ClusterSettings): KubeObject[] {
  return [
    sessionNamespace(sessionId),
    labNetwork(sessionId, settings),
    sessionNetworkPolicy(sessionId, settings),
    ...cloneSourceNamespaces(settings).map((namespace) => cloneRoleBinding(sessionId, namespace)),
    apiServerService(sessionId),
  ];
}

/**
 * Where sessions clone disks from: vm-templates (the golden disks) and the base image's namespace
 * (the bootstrap VMs' `sourceRef`), once each.
 */
export function cloneSourceNamespaces(settings: ClusterSettings): string[] {
  return [...new Set([GOLDEN_NAMESPACE, settings.baseImage.namespace])];
}

export function sessionNamespace(sessionId: string): KubeObject & IoK8sApiCoreV1Namespace {
  return kubeObject<IoK8sApiCoreV1Namespace>(
    R.namespace,
    { name: names.namespace(sessionId), labels: { ...sessionLabels(sessionId), ...SESSION_NAMESPACE_LABELS } },
    {},
  );
}

/** The session's isolated secondary L2 network for the fixed node addresses: a cloned kubeadm cluster keeps its node IPs. */
export function labNetwork(sessionId: string, settings: ClusterSettings): KubeObject & { spec: { config: string } } {
  return kubeObject<{ spec: { config: string } }>(
    R.nad,
    { name: names.network(), namespace: names.namespace(sessionId), labels: sessionLabels(sessionId) },
    { spec: { config: settings.labNetwork.cniConfig(assertSessionId(sessionId)) } },
  );
}

/**
 * Every session shares the golden image's CA and keys, so sessions must not reach each other.
 * This policy selects every pod of the session namespace (the virt-launcher pods,
 * i.e. the VMs' primary interfaces; the secondary network is a separate segment per session).
 *
 * Ingress: from the session itself; from the platform namespace (it talks to the inner API server
 * through the session Service); and from the namespaces the disks are cloned from (vm-templates
 * and the base image's), because a host-assisted CDI clone streams the disk from a source pod
 * there into an upload pod here — storage without CSI clone support would otherwise never finish.
 *
 * Egress: the internet (packages, images) and the session itself, but no private, link-local or
 * CGNAT address — that is where other sessions' pods and the host cluster's pods and nodes live;
 * a NetworkPolicy cannot name "other session namespaces" in an egress rule that still allows the
 * internet, so excluding the private ranges is the practical line. The host cluster's DNS pods
 * are allowed on their ports by selector, since masquerade makes them the guests' resolvers.
 */
export function sessionNetworkPolicy(sessionId: string, settings: ClusterSettings): KubeObject & IoK8sApiNetworkingV1NetworkPolicy {
  const namespace = names.namespace(sessionId);
  const cloneSources = cloneSourceNamespaces(settings);
  // The generated type says string for IntOrString; the API needs the integer (a string is a named port).
  const dnsPorts = settings.hostDns.ports.flatMap((port) =>
    (['UDP', 'TCP'] as const).map((protocol) => ({ protocol, port: port as unknown as string })),
  );
  return kubeObject<IoK8sApiNetworkingV1NetworkPolicy>(
    R.networkPolicy,
    { name: names.networkPolicy(), namespace, labels: sessionLabels(sessionId) },
    {
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            from: [
              { podSelector: {} },
              ...[PLATFORM_NAMESPACE, ...cloneSources].map((name) => ({
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: name } },
              })),
            ],
          },
        ],
        egress: [
          { to: [{ podSelector: {} }] },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: settings.hostDns.namespace } },
                podSelector: { matchLabels: settings.hostDns.podLabels },
              },
            ],
            ports: dnsPorts,
          },
          {
            to: [
              {
                ipBlock: {
                  cidr: '0.0.0.0/0',
                  except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10'],
                },
              },
            ],
          },
        ],
      },
    },
  );
}

/**
 * Lets the session's VMs (their `dataVolumeTemplates` are created as the namespace's `default`
 * ServiceAccount) clone disks from a source namespace, where CDI checks `datavolumes/source`:
 * vm-templates for the golden disks, and the base image's namespace when that is another. It
 * lives in the source namespace, so deleting the session namespace does not delete it: session
 * deletion must.
 */
export function cloneRoleBinding(sessionId: string, sourceNamespace: string): KubeObject & IoK8sApiRbacV1RoleBinding {
  return kubeObject<IoK8sApiRbacV1RoleBinding>(
    R.roleBinding,
    { name: names.cloneRoleBinding(sessionId), namespace: sourceNamespace, labels: sessionLabels(sessionId) },
    {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: GOLDEN_CLONER_CLUSTER_ROLE },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: `system:serviceaccounts:${names.namespace(sessionId)}` }],
    },
  );
}

/**
 * The inner API server for the platform: ClusterIP only (sessions share the golden CA, so never exposed outside).
 * Its certificate names the control plane, not this Service, so clients set tls-server-name
 * (e.g. "kubernetes"); restored sessions share the golden image's certificate, so no per-session
 * name could be in it anyway. The target port defaults to the port: masquerade forwards it to the guest.
 */
export function apiServerService(sessionId: string): KubeObject & IoK8sApiCoreV1Service {
  return kubeObject<IoK8sApiCoreV1Service>(
    R.service,
    { name: names.apiService(), namespace: names.namespace(sessionId), labels: sessionLabels(sessionId) },
    {
      spec: {
        type: 'ClusterIP',
        selector: { [LABELS.session]: sessionId, [LABELS.role]: 'control-plane' },
        ports: [{ name: 'https', protocol: 'TCP', port: API_SERVER_PORT }],
      },
    },
  );
}
