import type { Metadata } from 'next';
import { Suspense } from 'react';
import { MetricsDashboard } from '~/components/metrics/metrics-dashboard';
import { LoadingArea } from '~/components/ui/skeleton';
import { parseRange, rangeStart } from '~/components/metrics/time-range';
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
export default function Page({ searchParams }: Props) {
  return (
    <Suspense fallback={<LoadingArea label="Loading provisioning metrics" lines={8} />}>
      <MetricsWithData searchParams={searchParams} />
    </Suspense>
  );
}

async function MetricsWithData({ searchParams }: Props) {
  const params = await searchParams;
  const range = parseRange(params.range);
  // Synthetic (seeded) runs are never shown as history unless the address asks for them.
  const includeSynthetic = params.synthetic === '1';
  const input = { from: rangeStart(range, Date.now()), includeSynthetic };
  const metrics = appRouter.createCaller({ runtime: await getRuntime(), token: null }).metrics;
  const [summary, series, distribution, steps, rates] = await Promise.all([
    metrics.summary(input),
    metrics.series(input),
    metrics.distribution(input),
    metrics.steps(input),
    metrics.rates(input),
  ]);
  return (
    <MetricsDashboard
      initialRange={range}
      initialFrom={input.from}
      initialData={{ summary, series, distribution, steps, rates }}
      includeSynthetic={includeSynthetic}
    />
  );
}
