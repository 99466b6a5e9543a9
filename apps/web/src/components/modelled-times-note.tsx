import type { Timing } from '~/lib/durations';

/** Said once on a page whose durations are modelled (lib/durations.ts); nothing when they are measured. */
export function ModelledTimesNote({ timing }: { timing: Timing | undefined }) {
  if (!timing?.note) return null;
  return (
    <p className="muted small" role="note" data-testid="modelled-times">
      {timing.note}
    </p>
  );
}
