import { type DiskSource, guestIdentity, type Role, ValidationError } from '@cks-lab/core';
import { type BootstrapParams, controlPlaneUserData, workerUserData } from '../guest/bootstrap-cloud-init';
import type { BootstrapPki } from '../guest/bootstrap-pki';
import { POD_NIC_MAC } from '../guest/netplan';
import { restoreUserData } from '../guest/restore-cloud-init';
import type { ClusterSettings } from './settings';

/** The bootstrap user data parameters of a role, from the settings and the session's PKI. */
export function bootstrapParams(role: Role, settings: ClusterSettings, pki: BootstrapPki): BootstrapParams {
  const { hostname, mac, labIp } = guestIdentity[role];
  return {
    k8sVersion: settings.k8sVersion,
    labIp,
    hostname,
    podMac: POD_NIC_MAC[role],
    labMac: mac,
    pki,
    podCidr: settings.podCidr,
    serviceCidr: settings.serviceCidr,
    controlPlaneIp: guestIdentity['control-plane'].labIp,
  };
}

/**
 * The user data a VM gets: restore-only for a golden clone, the role's bootstrap for the base
 * image (which needs the session's PKI).
 */
export function userDataFor(role: Role, source: DiskSource, settings: ClusterSettings, pki?: BootstrapPki): string {
  if (source.kind === 'golden') return restoreUserData(role);
  if (!pki) throw new ValidationError(`the bootstrap user data of the ${role} needs the session's bootstrap PKI`);
  const params = bootstrapParams(role, settings, pki);
  return role === 'control-plane' ? controlPlaneUserData(params) : workerUserData(params);
}
