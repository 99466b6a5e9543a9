'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useCallback, useEffect, useState } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { storeAdminToken, useAdminToken } from '~/lib/admin-token';
import { formatDateTime } from '~/lib/format';
import { useTRPC, type GoldenStatus } from '~/lib/trpc';
import { AdminSignIn } from './admin-sign-in';
import { GoldenActions } from './golden-actions';
import { GoldenImageCard } from './golden-image-card';
import { StrategyStatus } from './strategy-status';

/**
 * Golden status has no subscription; it is polled only while a build or deletion runs and the
 * admin is watching, and otherwise read once (and after each action).
 */
const BUILD_POLL_MS = 1_000;
const IN_FLIGHT = new Set(['building', 'deleting']);

export function AdminPage() {
  const token = useAdminToken();
  const [signInError, setSignInError] = useState<string | null>(null);
  const queryClient = useQueryClient();
  const trpc = useTRPC();

  const signOut = useCallback(
    (reason: string | null) => {
      storeAdminToken(null);
      queryClient.removeQueries({ queryKey: trpc.snapshots.pathKey() });
      setSignInError(reason);
    },
    [queryClient, trpc],
  );

  return (
    <>
      <div className="page-heading">
        <h1>Admin</h1>
        {token && (
          <Button size="small" variant="ghost" onClick={() => signOut(null)}>
            Forget token
          </Button>
        )}
      </div>
      {token === undefined ? (
        <Card>
          <LoadingArea label="Loading" lines={2} />
        </Card>
      ) : token === null ? (
        <AdminSignIn
          error={signInError && `Not accepted: ${signInError}`}
          onSubmit={(value) => {
            setSignInError(null);
            storeAdminToken(value);
          }}
        />
      ) : (
        <AdminDashboard onRejected={signOut} />
      )}
    </>
  );
}

function AdminDashboard({ onRejected }: { onRejected: (message: string) => void }) {
  const trpc = useTRPC();
  const status = useQuery(
    trpc.snapshots.status.queryOptions(undefined, {
      refetchInterval: (query) => (query.state.data && IN_FLIGHT.has(query.state.data.status) ? BUILD_POLL_MS : false),
    }),
  );

  const code = status.error?.data?.code;
  const rejected = code === 'UNAUTHORIZED' || code === 'FORBIDDEN';
  const rejectionMessage = status.error?.message ?? '';
  useEffect(() => {
    // A wrong token goes back to the form, with the server's reason next to the field.
    if (rejected) onRejected(rejectionMessage);
  }, [rejected, rejectionMessage, onRejected]);

  if (status.isPending || rejected) {
    return (
      <Card>
        <LoadingArea label="Loading the golden image status" lines={5} />
      </Card>
    );
  }
  if (status.isError) {
    return <ErrorState title="Could not load the golden image status" error={status.error} onRetry={() => void status.refetch()} />;
  }
  const golden = status.data;
  return (
    <>
      <StrategyStatus golden={golden} />
      <GoldenImageCard golden={golden} />
      {golden.previous && <PreviousVersion previous={golden.previous} />}
      <GoldenActions golden={golden} />
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
