import { FALLBACK_REASON_TEXT } from '@cks-lab/core';
import { formatCount } from '~/lib/format';
import type { MetricsRates } from '~/lib/trpc';

/** Why runs used bootstrap, most frequent first, as labelled bars (a list reads better than a chart here). */
export function FallbackReasons({ reasons }: { reasons: MetricsRates['fallbacksByReason'] }) {
  if (reasons.length === 0) return <p className="muted">No run used bootstrap for lack of a usable golden image in this range.</p>;
  const most = Math.max(...reasons.map((r) => r.count));
  return (
    <ul className="reason-list">
      {reasons.map(({ reason, count }) => (
        <li key={reason} className="reason">
          <span className="reason-text">{FALLBACK_REASON_TEXT[reason] ?? reason}</span>
          <span className="reason-count num">{formatCount(count)}</span>
          <span className="reason-bar" aria-hidden="true">
            <span style={{ width: `${(count / most) * 100}%` }} />
          </span>
        </li>
      ))}
    </ul>
  );
}
