import { type DiskSource, names, ROLES, type Role } from '@cks-lab/core';
import { type BootstrapPki, bootstrapPkiSecret } from '../guest/bootstrap-pki';
import type { KubeObject } from '../object-api';
import { goldenCopyDataVolume, goldenDataSource, vmSnapshot } from './golden';
import { sessionBaseObjects } from './session-base';
import type { ClusterSettings } from './settings';
import { userDataFor } from './user-data';
import { cloudInitSecret, virtualMachine } from './virtual-machine';

/**
 * Every object each flow creates, in creation order, from the same builders the cluster adapter
 * calls one by one. Waits between creations (docs/architecture.md#provisioning) are not represented.
 */

/** A VM and, before it, the cloud-init Secret it mounts (a VMI would not start without it). */
function vmObjects(sessionId: string, role: Role, source: DiskSource, settings: ClusterSettings, pki?: BootstrapPki): KubeObject[] {
  return [cloudInitSecret(sessionId, role, userDataFor(role, source, settings, pki)), virtualMachine(sessionId, role, source, settings)];
}

/** Snapshot strategy (docs/architecture.md#snapshot-path): scaffolding, then both VMs at once from the pinned golden version. */
export function snapshotFlowObjects(sessionId: string, goldenVersion: number, settings: ClusterSettings): KubeObject[] {
  const golden = (role: Role): DiskSource => ({ kind: 'golden', version: goldenVersion, pvc: names.goldenCopy(role, goldenVersion) });
  return [...sessionBaseObjects(sessionId, settings), ...ROLES.flatMap((role) => vmObjects(sessionId, role, golden(role), settings))];
}

/**
 * Bootstrap strategy (docs/architecture.md#bootstrap-path): scaffolding, the PKI Secret (kept for a resumed run), the control
 * plane, and — once it is ready — the worker.
 */
export function bootstrapFlowObjects(sessionId: string, settings: ClusterSettings, pki: BootstrapPki): KubeObject[] {
  const base: DiskSource = { kind: 'base-image' };
  return [
    ...sessionBaseObjects(sessionId, settings),
    bootstrapPkiSecret(sessionId, pki),
    ...vmObjects(sessionId, 'control-plane', base, settings, pki),
    ...vmObjects(sessionId, 'worker', base, settings, pki),
  ];
}

/**
 * Golden image build (docs/architecture.md#golden-image): both VM snapshots, then (with the VolumeSnapshot names their
 * VirtualMachineSnapshotContents report) both copies into vm-templates, then both DataSources.
 */
export function goldenBuildObjects(
  sessionId: string,
  version: number,
  volumeSnapshots: Record<Role, string>,
  settings: ClusterSettings,
): KubeObject[] {
  const sourceNamespace = names.namespace(sessionId);
  return [
    ...ROLES.map((role) => vmSnapshot(sessionId, role, version)),
    ...ROLES.map((role) =>
      goldenCopyDataVolume(
        version,
        { role, volumeSnapshot: volumeSnapshots[role], pvc: names.goldenCopy(role, version), sizeBytes: null },
        sourceNamespace,
        settings,
      ),
    ),
    ...ROLES.map((role) => goldenDataSource(role, version)),
  ];
}
