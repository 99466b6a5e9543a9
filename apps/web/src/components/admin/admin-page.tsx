'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { Card } from '~/components/ui/card';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { formatDateTime } from '~/lib/format';
import { type GoldenStatus, useTRPC } from '~/lib/trpc';
import { GoldenActions } from './golden-actions';
import { GoldenImageCard } from './golden-image-card';
import { StrategyStatus } from './strategy-status';
import { UsersCard } from './users-card';
import { WarmPoolCard } from './warm-pool-card';

/**
 * Golden status has no subscription; it is polled only while a build or deletion runs and the
 * admin is watching, and otherwise read once (and after each action).
 */
const BUILD_POLL_MS = 1_000;
const IN_FLIGHT = new Set(['building', 'deleting']);

/** For admin accounts only (the page checks on the server; the API checks every call). */
export function AdminPage() {
  const trpc = useTRPC();
  const status = useQuery(
    trpc.snapshots.status.queryOptions(undefined, {
      refetchInterval: (query) => (query.state.data && IN_FLIGHT.has(query.state.data.status) ? BUILD_POLL_MS : false),
    }),
  );

  return (
    <>
      <div className="page-heading">
        <h1>Admin</h1>
      </div>
      {status.isPending ? (
        <Card>
          <LoadingArea label="Loading the golden image status" lines={5} />
        </Card>
      ) : status.isError ? (
        <ErrorState title="Could not load the golden image status" error={status.error} onRetry={() => void status.refetch()} />
      ) : (
        <>
          <StrategyStatus golden={status.data} />
          <GoldenImageCard golden={status.data} />
          {status.data.previous && <PreviousVersion previous={status.data.previous} />}
          <GoldenActions golden={status.data} />
        </>
      )}
      <WarmPoolCard />
      <UsersCard />
    </>
  );
}

/** While a build runs the previous version is still the one in use; afterwards it is only kept. */
const PREVIOUS_STATUS: Record<string, string> = { ready: 'In use', superseded: 'Superseded', deleting: 'Being removed' };

function PreviousVersion({ previous }: { previous: NonNullable<GoldenStatus['previous']> }) {
  return (
    <Card
      title={`Previous version v${previous.version}`}
      description="Kept while the new version builds and while sessions may still be cloning from it; then removed automatically."
      actions={<StatusIndicator tone="neutral" label={PREVIOUS_STATUS[previous.status] ?? previous.status} />}
    >
      <dl className="facts facts-row">
        <div>
          <dt>Source session</dt>
          <dd>
            <Link href={`/sessions/${previous.sourceSessionId}`} className="mono">
              {previous.sourceSessionId}
            </Link>
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(previous.createdAt)}</dd>
        </div>
      </dl>
    </Card>
  );
}
