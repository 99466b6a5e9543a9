import { Callout } from '~/components/ui/callout';
import { lowerFirst } from '~/lib/format';
import type { SessionDetail } from '~/lib/trpc';

type FallbackInput = Pick<SessionDetail, 'requestedStrategy' | 'fallbackReason' | 'fallbackReasonText' | 'fallbackDetail' | 'runOutcome'>;

/**
 * Why this session is built by bootstrap, in plain words. Two cases read differently: the golden
 * image was unusable from the start (nothing failed, it is just slower), or the snapshot path was
 * tried and failed (the platform switched over by itself).
 */
export function FallbackNotice({ requestedStrategy, fallbackReason, fallbackReasonText, fallbackDetail, runOutcome }: FallbackInput) {
  if (!fallbackReason) return null;
  const reason = fallbackReasonText ?? fallbackReason;
  const building = runOutcome === 'running';

  if (requestedStrategy === 'snapshot') {
    return (
      <Callout tone="warning" title={`Switched to bootstrap: ${lowerFirst(reason)}`}>
        <p>
          The golden image was tried first and did not work, so the leftovers were removed and the cluster
          {building ? ' is being' : ' was'} built from scratch instead. That takes longer (usually 8–15 minutes) but needs nothing from you.
        </p>
        {fallbackDetail && <p className="callout-detail">What went wrong: {fallbackDetail}</p>}
      </Callout>
    );
  }
  return (
    <Callout tone="info" title={`Built from scratch (bootstrap): ${lowerFirst(reason)}`}>
      <p>
        Sessions start from a golden image only when a usable one exists; this one {building ? 'takes' : 'took'} the longer bootstrap path
        (usually 8–15 minutes). An admin can create a golden image from a running session to make the next sessions start in 1–3 minutes.
      </p>
      {fallbackDetail && <p className="callout-detail">{fallbackDetail}</p>}
    </Callout>
  );
}
