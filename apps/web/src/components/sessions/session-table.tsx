'use client';

import { ENDABLE_SESSION_STATUSES, LIVE_SESSION_STATUSES } from '@cks-lab/core';
import Link from 'next/link';
import { buttonClassName } from '~/components/ui/button';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { elapsedMs } from '~/lib/durations';
import { formatDuration } from '~/lib/format';
import { SESSION_STATUS } from '~/lib/status';
import type { SessionSummary } from '~/lib/trpc';
import { useNow } from '~/lib/use-now';
import { EndSessionButton } from './end-session-button';
import { ExpiryCountdown } from './expiry-countdown';
import { StrategyBadge } from './strategy-badge';

/** Sessions as a table, newest first (the server's order); below 40rem each row becomes a labelled block (see .session-table in globals.css). */
export function SessionTable({ sessions, showOwners }: { sessions: SessionSummary[]; showOwners: boolean }) {
  return (
    <table className="data-table session-table">
      <thead>
        <tr>
          <th scope="col">Session</th>
          {showOwners && <th scope="col">Owner</th>}
          <th scope="col">Status</th>
          <th scope="col">Strategy</th>
          <th scope="col">Time to ready</th>
          <th scope="col">Expires in</th>
          <th scope="col">
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {sessions.map((session) => (
          <SessionRow key={session.id} session={session} showOwner={showOwners} />
        ))}
      </tbody>
    </table>
  );
}

function SessionRow({ session, showOwner }: { session: SessionSummary; showOwner: boolean }) {
  return (
    <tr>
      <th scope="row" data-label="Session">
        <Link href={`/sessions/${session.id}`} className="session-link">
          {session.id}
        </Link>
      </th>
      {showOwner && (
        <td data-label="Owner" className="session-owner">
          {session.owner?.name ?? <span className="muted">{session.pool ? 'warm pool (unclaimed)' : 'internal tool'}</span>}
        </td>
      )}
      <td data-label="Status">
        <StatusIndicator {...SESSION_STATUS[session.status]} />
        {session.failureReason && <span className="cell-note">{session.failureReason}</span>}
      </td>
      <td data-label="Strategy">
        <StrategyBadge strategy={session.strategy} />
      </td>
      <td data-label="Time to ready">
        <TimeToReady session={session} />
      </td>
      <td data-label="Expires in">
        {LIVE_SESSION_STATUSES.includes(session.status) ? (
          <ExpiryCountdown expiresAt={session.expiresAt} />
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="row-actions">
        <Link href={`/sessions/${session.id}`} className={buttonClassName('secondary', 'small')} aria-label={`Open session ${session.id}`}>
          Open
        </Link>
        {ENDABLE_SESSION_STATUSES.includes(session.status) && (
          <EndSessionButton id={session.id} namespace={session.namespace} size="small" />
        )}
      </td>
    </tr>
  );
}

/** While provisioning, how long it has taken so far; afterwards the recorded time-to-ready. */
function TimeToReady({ session }: { session: SessionSummary }) {
  const now = useNow();
  if (session.status === 'pending' || session.status === 'provisioning') {
    return (
      <span className="muted">{now === null ? '…' : `${formatDuration(elapsedMs(session.timing, session.createdAt, now))} so far`}</span>
    );
  }
  if (session.timeToReadyMs !== null) return <span className="num">{formatDuration(session.timeToReadyMs)}</span>;
  return <span className="muted">—</span>;
}
