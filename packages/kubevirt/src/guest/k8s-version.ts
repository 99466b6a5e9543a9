import { ValidationError } from '@cks-lab/core';

/** A Kubernetes release as the pkgs.k8s.io apt repositories need it. */
export interface K8sRelease {
  /** "v1.34.2": kubeadm's kubernetesVersion. */
  version: string;
  /** "v1.34": pkgs.k8s.io has one repository per minor version. */
  minor: string;
  /** "1.34.2-*": the apt version of the kubelet, kubeadm and kubectl packages (any package revision). */
  aptVersion: string;
}

export function k8sRelease(version: string): K8sRelease {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new ValidationError(`Kubernetes version "${version}" is not of the form v1.34.2`);
  const [, major, minor, patch] = match;
  return { version: `v${major}.${minor}.${patch}`, minor: `v${major}.${minor}`, aptVersion: `${major}.${minor}.${patch}-*` };
}
