'use client';

import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { formatDateTime } from '~/lib/format';
import { type PoolStatus, useTRPC } from '~/lib/trpc';

/** Members come and go in the background; a few seconds' staleness is fine for an admin glance. */
const POLL_MS = 3_000;

/** The warm pool: what it holds, why it holds less than its target, and its size until the next restart. */
export function WarmPoolCard() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const status = useQuery(trpc.pool.status.queryOptions(undefined, { refetchInterval: POLL_MS }));
  const resize = useMutation(
    trpc.pool.resize.mutationOptions({ onSuccess: (next) => queryClient.setQueryData(trpc.pool.status.queryKey(), next) }),
  );
  const [size, setSize] = useState('');
  const sizeId = useId();

  function submit(event: FormEvent) {
    event.preventDefault();
    const target = Number(size);
    if (size.trim() === '' || !Number.isInteger(target) || target < 0) return;
    resize.mutate({ size: target }, { onSuccess: () => setSize('') });
  }

  return (
    <Card
      title="Warm pool"
      description="Sessions kept ready from the golden image, owned by nobody: a learner's start claims one at once. They count against the concurrency limit and give way to learners."
      actions={status.data && <PoolIndicator pool={status.data} />}
    >
      {status.isPending ? (
        <LoadingArea label="Loading the warm pool" lines={2} />
      ) : status.isError ? (
        <ErrorState title="Could not load the warm pool" error={status.error} onRetry={() => void status.refetch()} />
      ) : (
        <>
          <dl className="facts facts-row" data-testid="warm-pool">
            <div>
              <dt>Target</dt>
              <dd className="num" data-testid="pool-target">
                {status.data.target}
              </dd>
            </div>
            <div>
              <dt>Ready</dt>
              <dd className="num" data-testid="pool-ready">
                {status.data.ready}
              </dd>
            </div>
            <div>
              <dt>Provisioning</dt>
              <dd className="num">{status.data.provisioning}</dd>
            </div>
            <div>
              <dt>Failing</dt>
              <dd className="num">{status.data.failing}</dd>
            </div>
          </dl>
          {status.data.reason && (
            <p className="callout callout-info" role="status">
              {status.data.reason}
            </p>
          )}
          {status.data.lastFailure && status.data.failing > 0 && (
            <p className="callout callout-warning">
              Last failure: {status.data.lastFailure}
              {status.data.retryAt && <> (next try {formatDateTime(status.data.retryAt)})</>}
            </p>
          )}
        </>
      )}
      <form onSubmit={submit} className="form-inline" aria-label="Resize the warm pool">
        <label htmlFor={sizeId} className="field-label">
          Pool size
        </label>
        <input
          id={sizeId}
          className="input"
          type="number"
          min={0}
          step={1}
          inputMode="numeric"
          required
          value={size}
          onChange={(event) => setSize(event.target.value)}
        />
        <Button type="submit" busy={resize.isPending} disabled={size.trim() === ''}>
          Resize
        </Button>
      </form>
      <p className="muted">Until the next restart, which starts from WARM_POOL_SIZE again.</p>
      {resize.error && <p className="callout callout-warning">{resize.error.message}</p>}
    </Card>
  );
}

function PoolIndicator({ pool }: { pool: PoolStatus }) {
  if (pool.target === 0) return <StatusIndicator tone="neutral" label="Off" />;
  if (pool.failing > 0) return <StatusIndicator tone="danger" label="Failing" />;
  if (pool.ready >= pool.target) return <StatusIndicator tone="success" label="Full" />;
  return <StatusIndicator tone="progress" label="Filling" />;
}
