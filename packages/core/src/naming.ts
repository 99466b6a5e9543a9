import { ValidationError } from './errors';
import type { Role } from './types';

/** Names users already know (docs/architecture.md#names). Every generated name is checked, not assumed, to be a DNS-1123 label. */

const SESSION_ID = /^[0-9a-f]{8}$/;
/** The session-id rule in words, for every message that refuses a malformed one. */
export const SESSION_ID_FORMAT = '8 lowercase hex characters, e.g. 76c3ac1b';
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_LABEL_LENGTH = 63;

export const GOLDEN_NAMESPACE = 'vm-templates';
export const MANAGED_BY = 'cks-lab';

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

export function assertSessionId(value: string): string {
  if (!isSessionId(value)) {
    throw new ValidationError(`malformed session id "${value}": expected ${SESSION_ID_FORMAT}`);
  }
  return value;
}

/** Returns the name when it is a valid DNS-1123 label; throws a ValidationError naming the problem otherwise. */
export function dnsLabel(name: string): string {
  if (name.length > MAX_LABEL_LENGTH) {
    throw new ValidationError(`name "${name}" is ${name.length} characters; Kubernetes allows at most ${MAX_LABEL_LENGTH}`);
  }
  if (!DNS1123_LABEL.test(name)) {
    throw new ValidationError(`name "${name}" is not a DNS-1123 label (lowercase letters, digits and '-')`);
  }
  return name;
}

const ROLE_PREFIX: Record<Role, string> = { 'control-plane': 'cks-control-plane', worker: 'cks-worker-node' };
const GOLDEN_PREFIX: Record<Role, string> = { 'control-plane': 'cks-control-plane', worker: 'cks-worker' };

export const names = {
  namespace: (sessionId: string) => dnsLabel(`user-session-${assertSessionId(sessionId)}`),
  vm: (role: Role, sessionId: string) => dnsLabel(`${ROLE_PREFIX[role]}-${names.namespace(sessionId)}`),
  rootDisk: (role: Role, sessionId: string) => dnsLabel(`${names.vm(role, sessionId)}-root`),
  cloudInit: (role: Role, sessionId: string) => dnsLabel(`${names.vm(role, sessionId)}-cloudinit`),
  network: () => 'lab-net',
  apiService: () => 'cluster-api',
  networkPolicy: () => 'session-isolation',
  cloneRoleBinding: (sessionId: string) => dnsLabel(`golden-clone-${names.namespace(sessionId)}`),
  /** Logical golden names users know, versioned: cks-control-plane-base-snapshot-v3. */
  goldenSnapshot: (role: Role, version: number) => dnsLabel(`${GOLDEN_PREFIX[role]}-base-snapshot-v${version}`),
  goldenCopy: (role: Role, version: number) => dnsLabel(`${GOLDEN_PREFIX[role]}-golden-v${version}`),
  goldenDataSource: (role: Role) => dnsLabel(`${GOLDEN_PREFIX[role]}-golden`),
};

/** Guest identity that a restored kubeadm cluster must keep (docs/architecture.md#cluster-facts, 6). */
export const guestIdentity: Record<Role, { hostname: string; labIp: string; mac: string }> = {
  'control-plane': { hostname: 'controlplane', labIp: '192.168.100.10', mac: '02:c5:1a:00:00:10' },
  worker: { hostname: 'node01', labIp: '192.168.100.11', mac: '02:c5:1a:00:00:11' },
};
