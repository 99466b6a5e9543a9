import type { GoldenImage, GoldenPhase } from './types';

/** Build phases in which the source session's VMs are halted, snapshotted or starting again. */
export const SOURCE_HALTING_PHASES: readonly GoldenPhase[] = ['halt-source', 'snapshot-vms', 'restart-source'];

/**
 * The golden-image build that is halting this session's VMs right now, if any: the learner working
 * in it must be told, since their terminal and cluster go away for a while.
 */
export function buildHaltingSession(building: readonly GoldenImage[], sessionId: string): GoldenImage | null {
  return (
    building.find(
      (image) => image.status === 'building' && image.sourceSessionId === sessionId && SOURCE_HALTING_PHASES.includes(image.phase),
    ) ?? null
  );
}
