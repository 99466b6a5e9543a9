'use client';

import { useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { ModelledTimesNote } from '~/components/modelled-times-note';
import { Card } from '~/components/ui/card';
import { EmptyState } from '~/components/ui/empty-state';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { useTRPC } from '~/lib/trpc';
import { SessionTable } from './session-table';
import { StartSession } from './start-session';

const CHANGING = new Set(['pending', 'provisioning', 'terminating']);
/** Sessions change on their own while provisioning or ending; the list follows them closely then. */
const FAST_REFRESH_MS = 2_000;
/** Otherwise it only needs to catch expiries and other tabs. */
const SLOW_REFRESH_MS = 30_000;

/** `showOwners`: admins see everyone's sessions, so each row says whose it is. */
export function SessionsPage({ showOwners }: { showOwners: boolean }) {
  const trpc = useTRPC();
  const [includeEnded, setIncludeEnded] = useState(false);
  const toggleId = useId();
  const info = useQuery(trpc.cluster.info.queryOptions(undefined, { refetchInterval: SLOW_REFRESH_MS }));
  const sessions = useQuery(
    trpc.sessions.list.queryOptions(
      { includeEnded },
      {
        placeholderData: (previous) => previous,
        // Shown from cache at once, but always re-read on arrival: a session may have changed on its own page.
        staleTime: 0,
        refetchInterval: (query) => (query.state.data?.some((s) => CHANGING.has(s.status)) ? FAST_REFRESH_MS : SLOW_REFRESH_MS),
      },
    ),
  );

  return (
    <>
      <div className="page-heading">
        <h1>Lab sessions</h1>
      </div>
      <StartSession info={info.data} />
      <Card
        title="Sessions"
        actions={
          <label className="toggle" htmlFor={toggleId}>
            <input id={toggleId} type="checkbox" checked={includeEnded} onChange={(e) => setIncludeEnded(e.target.checked)} />
            Show ended
          </label>
        }
      >
        {sessions.isPending ? (
          <LoadingArea label="Loading sessions" lines={3} lineHeight="2.25rem" />
        ) : sessions.isError ? (
          <ErrorState title="Could not load the sessions" error={sessions.error} onRetry={() => void sessions.refetch()} />
        ) : sessions.data.length === 0 ? (
          <EmptyState title={includeEnded ? 'No sessions yet' : 'No active sessions'}>
            <p>
              Start a session above. With a golden image it is ready in about a minute or two; without one it is built from scratch in 8–15
              minutes.
            </p>
          </EmptyState>
        ) : (
          <>
            <SessionTable sessions={sessions.data} showOwners={showOwners} />
            <ModelledTimesNote timing={info.data?.timing} />
          </>
        )}
      </Card>
    </>
  );
}
