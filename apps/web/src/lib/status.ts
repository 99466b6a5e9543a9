import type { SessionStatus } from '@cks-lab/core';

/** How a state feels; each tone has its own colour *and* symbol, and the label is always shown. */
export type Tone = 'success' | 'progress' | 'pending' | 'danger' | 'neutral';

export interface StatusDisplay {
  tone: Tone;
  label: string;
}

export const SESSION_STATUS: Record<SessionStatus, StatusDisplay> = {
  pending: { tone: 'pending', label: 'Pending' },
  provisioning: { tone: 'progress', label: 'Provisioning' },
  running: { tone: 'success', label: 'Running' },
  terminating: { tone: 'progress', label: 'Terminating' },
  terminated: { tone: 'neutral', label: 'Terminated' },
  failed: { tone: 'danger', label: 'Failed' },
};

/** A step's state; `waiting` is a step the run has not reached yet. */
export type StepState = 'waiting' | 'running' | 'succeeded' | 'failed';

export const STEP_STATUS: Record<StepState, StatusDisplay> = {
  waiting: { tone: 'pending', label: 'Waiting' },
  running: { tone: 'progress', label: 'In progress' },
  succeeded: { tone: 'success', label: 'Done' },
  failed: { tone: 'danger', label: 'Failed' },
};

export const GOLDEN_STATUS: Record<'none' | 'building' | 'ready' | 'failed' | 'deleting', StatusDisplay> = {
  none: { tone: 'neutral', label: 'None' },
  building: { tone: 'progress', label: 'Building' },
  ready: { tone: 'success', label: 'Ready' },
  failed: { tone: 'danger', label: 'Failed' },
  deleting: { tone: 'progress', label: 'Deleting' },
};

const SUCCESS_PHASES = /^(Ready|Running|Succeeded|Bound)$/;
const FAILED_PHASES = /(Fail|Error|CrashLoop|Lost|Missing)/;
const IDLE_PHASES = /^(Stopped|Halted|Paused)$/;

/**
 * Kubernetes phases are open-ended strings (DataVolumes add progress, e.g. "CloneInProgress 45%"),
 * so they are classified by pattern and shown verbatim.
 */
export function phaseTone(phase: string): Tone {
  if (SUCCESS_PHASES.test(phase)) return 'success';
  if (FAILED_PHASES.test(phase)) return 'danger';
  if (IDLE_PHASES.test(phase)) return 'neutral';
  return 'progress';
}
