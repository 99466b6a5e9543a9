import { Callout } from '~/components/ui/callout';
import { lowerFirst } from '~/lib/format';
import { GOLDEN_PHASE_LABELS } from '~/lib/labels';
import type { SessionDetail } from '~/lib/trpc';

/** Told to the learner while an admin's golden-image build halts, snapshots and restarts their VMs. */
export function GoldenBuildNotice({ build }: { build: SessionDetail['haltedByGoldenBuild'] }) {
  if (!build) return null;
  const phase = build.phase === 'done' ? null : GOLDEN_PHASE_LABELS[build.phase];
  return (
    <Callout tone="warning" title="An admin is building the golden image from this session">
      <p>
        Your VMs are halted and restarted: the terminal and the cluster are away for a few minutes and come back by themselves. Files on the
        disks stay; running programs end.
      </p>
      {phase && (
        <p className="muted small">
          Now: {lowerFirst(phase)} (golden image v{build.version}).
        </p>
      )}
    </Callout>
  );
}
