'use client';

import { progressAt } from '@cks-lab/core';
import { formatClockTime } from '~/lib/format';
import type { SessionDetail } from '~/lib/trpc';

type Estimate = NonNullable<SessionDetail['estimate']>;

const BASIS_TEXT: Record<Estimate['basis'], string> = {
  history: 'Estimated from the steps of recent sessions.',
  model: 'Estimated from the latency model: no session has recorded these steps yet.',
  mixed: 'Estimated from recent sessions, and from the latency model for steps none has recorded yet.',
};

/**
 * How far provisioning is and when it should be done. The server estimates at every change; in
 * between, the bar moves on with the clock towards the expected time (core/ready-estimate.ts).
 */
export function ReadyEstimate({
  estimate,
  startedAt,
  now,
  simulated,
}: {
  estimate: Estimate;
  startedAt: number;
  now: number | null;
  simulated: boolean;
}) {
  const progress = now === null ? estimate.progress : progressAt(startedAt, estimate.expectedReadyAt, now);
  const late = estimate.overdue || (now !== null && now >= estimate.expectedReadyAt);
  const percent = Math.round(progress * 100);
  return (
    <div className="ready-estimate">
      <progress className="progress progress-wide" max={100} value={percent} aria-label="Provisioning progress" />
      <p className="ready-estimate-text">
        <span className="num">{percent}%</span> ·{' '}
        {late ? (
          'taking longer than usual: ready any moment'
        ) : (
          <>
            expected ready at{' '}
            <time dateTime={new Date(estimate.expectedReadyAt).toISOString()}>{formatClockTime(estimate.expectedReadyAt)}</time>
          </>
        )}
      </p>
      <p className="muted small">
        {BASIS_TEXT[estimate.basis]}
        {simulated && ' The cluster is simulated: this is the simulator’s wait, not a real cluster’s.'}
      </p>
    </div>
  );
}
