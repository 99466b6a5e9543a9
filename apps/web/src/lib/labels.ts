import type { GoldenPhase, RunStrategy, StepName } from '@cks-lab/core';

/** Plain words for the provisioning steps, so a learner can follow what is happening. */
const STEP_LABELS: Record<StepName, string> = {
  'prepare-namespace': 'Prepare the namespace, network and access rules',
  'create-vms-from-golden': 'Create both VMs from the golden image',
  'wait-disks-cloned': 'Clone the disks from the golden image',
  'wait-vms-running': 'Start the VMs',
  'wait-cluster-ready': 'Wait until the cluster is ready',
  'remove-failed-attempt': 'Remove the failed snapshot attempt',
  'create-control-plane': 'Create the control-plane VM',
  'wait-control-plane-ready': 'Install Kubernetes on the control plane (kubeadm init)',
  'create-worker': 'Create the worker VM',
};

export const STRATEGY_DESCRIPTIONS: Record<RunStrategy, string> = {
  warm: 'A ready cluster from the warm pool, handed over at the click',
  snapshot: 'VMs cloned from the golden image (usually 1–3 minutes)',
  bootstrap: 'VMs installed from scratch with kubeadm (usually 8–15 minutes)',
};

/** Golden-image build phases that are shown while building; `done` is the ready state itself. */
export const GOLDEN_PHASE_LABELS: Record<Exclude<GoldenPhase, 'done'>, string> = {
  'halt-source': 'Halt the source session’s VMs',
  'snapshot-vms': 'Snapshot both VMs',
  'restart-source': 'Start the source session again',
  'copy-disks': 'Copy the disks into vm-templates',
  'switch-datasources': 'Switch new sessions to the new disks',
  'remove-session-snapshots': 'Remove the temporary snapshots',
};

export function stepLabel(name: string): string {
  return (STEP_LABELS as Record<string, string>)[name] ?? name;
}
