import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MetricsDashboard } from '~/components/metrics/metrics-dashboard';
import { parseRange, rangeStart } from '~/components/metrics/time-range';
import { LoadingArea } from '~/components/ui/skeleton';
import type { Identity } from '~/server/identity';
import { requireSignIn } from '~/server/page-auth';
import { getRuntime } from '~/server/runtime';
import { appRouter } from '~/server/trpc/root';

export const metadata: Metadata = { title: 'Metrics' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

/**
 * The first view's aggregates are read on the server and streamed with the page, so the charts draw
 * as soon as the page hydrates instead of after a round trip started by the browser's scripts; the
 * shell streams first, so the scripts load while the database answers.
 */
export default async function Page({ searchParams }: Props) {
  const identity = await requireSignIn('/metrics');
  return (
    <Suspense fallback={<LoadingArea label="Loading provisioning metrics" lines={8} />}>
      <MetricsWithData searchParams={searchParams} identity={identity} />
    </Suspense>
  );
}

async function MetricsWithData({ searchParams, identity }: Props & { identity: Identity }) {
  const params = await searchParams;
  const range = parseRange(params.range);
  const input = { from: rangeStart(range, Date.now()) };
  const queryClient = new QueryClient();
  const trpc = createTRPCOptionsProxy({
    router: appRouter,
    ctx: { runtime: await getRuntime(), caller: { ok: true, identity } },
    queryClient,
  });
  await Promise.all([
    queryClient.prefetchQuery(trpc.metrics.summary.queryOptions(input)),
    queryClient.prefetchQuery(trpc.metrics.series.queryOptions(input)),
    queryClient.prefetchQuery(trpc.metrics.distribution.queryOptions(input)),
    queryClient.prefetchQuery(trpc.metrics.steps.queryOptions(input)),
    queryClient.prefetchQuery(trpc.metrics.rates.queryOptions(input)),
  ]);
  // Hydration replaces older cached entries (say, from an earlier visit in the same minute) with these.
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <MetricsDashboard initialRange={range} initialFrom={input.from} />
    </HydrationBoundary>
  );
}
