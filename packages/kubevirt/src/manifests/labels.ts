import { MANAGED_BY, type Role } from '@cks-lab/core';

/** Label keys on everything cks-lab creates. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  session: 'cks-lab.io/session',
  role: 'cks-lab.io/role',
  goldenVersion: 'cks-lab.io/golden-version',
} as const;

/** Annotation keys cks-lab writes or reads. */
export const ANNOTATIONS = {
  /** Asks CDI to bind a DataVolume's PVC at once, even on WaitForFirstConsumer storage (golden copies have no consumer). */
  bindImmediate: 'cdi.kubevirt.io/storage.bind.immediate.requested',
  /** Where CDI says why a clone fell back to a slow host-assisted copy (shown to admins: storage decides clone speed). */
  cloneFallbackReason: 'cdi.kubevirt.io/cloneFallbackReason',
} as const;

export type Labels = Record<string, string>;

export function managedLabels(): Labels {
  return { [LABELS.managedBy]: MANAGED_BY };
}

export function sessionLabels(sessionId: string): Labels {
  return { ...managedLabels(), [LABELS.session]: sessionId };
}

export function roleLabels(sessionId: string, role: Role): Labels {
  return { ...sessionLabels(sessionId), [LABELS.role]: role };
}

/** Label values are strings; the version number is written in decimal. */
export function goldenVersionLabel(version: number): Labels {
  return { [LABELS.goldenVersion]: String(version) };
}

export function goldenLabels(version: number, role?: Role): Labels {
  return { ...managedLabels(), ...goldenVersionLabel(version), ...(role ? { [LABELS.role]: role } : {}) };
}

/** The label selector string for list and watch calls, e.g. "cks-lab.io/session=76c3ac1b". */
export function labelSelector(labels: Labels): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
