'use client';

import { describeCountdown, formatCountdown } from '~/lib/format';
import { useNow } from '~/lib/use-now';

const SOON_MS = 5 * 60_000;

/** Time left before the reaper ends the session; turns to a warning in the last five minutes. */
export function ExpiryCountdown({ expiresAt }: { expiresAt: number }) {
  const now = useNow();
  if (now === null) return <span className="countdown">--:--</span>;
  const remaining = expiresAt - now;
  return (
    <time className={`countdown${remaining < SOON_MS ? ' countdown-soon' : ''}`} dateTime={new Date(expiresAt).toISOString()}>
      <span aria-hidden="true">{formatCountdown(remaining)}</span>
      <span className="visually-hidden">{describeCountdown(remaining)}</span>
    </time>
  );
}
