'use client';

import { keepPreviousData, useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { ModelledTimesNote } from '~/components/modelled-times-note';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { EmptyState } from '~/components/ui/empty-state';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea, Skeleton } from '~/components/ui/skeleton';
import {
  type MetricsDistribution,
  type MetricsRates,
  type MetricsSeries,
  type MetricsSteps,
  type MetricsSummary,
  useTRPC,
} from '~/lib/trpc';
import { ChartFrame } from './chart-frame';
import { DISTRIBUTION_HEIGHT, DistributionChart } from './distribution-chart';
import { FallbackReasons } from './fallback-reasons';
import { STEP_BREAKDOWN_HEIGHT, StepBreakdownChart } from './step-breakdown-chart';
import { SummaryTiles } from './summary-tiles';
import { rangeLabel, rangeStart, type TimeRangeId } from './time-range';
import { TimeRangeSelector } from './time-range-selector';
import { TIME_TO_READY_HEIGHT, TimeToReadyChart } from './time-to-ready-chart';

interface MetricsData {
  summary: MetricsSummary;
  series: MetricsSeries;
  distribution: MetricsDistribution;
  steps: MetricsSteps;
  rates: MetricsRates;
}

/**
 * The charts read five aggregates computed in SQL (packages/db): the first range's arrive with the
 * page, later ones in one batched request. `data-ready` marks the moment everything is rendered,
 * for the page benchmark.
 */
export function MetricsDashboard({
  initialRange,
  initialFrom,
}: {
  initialRange: TimeRangeId;
  /** The lower bound the server used for the data it sent, so the first queries find it. */
  initialFrom: number | undefined;
}) {
  const trpc = useTRPC();
  const [selection, setSelection] = useState<{ range: TimeRangeId; from: number | undefined }>({ range: initialRange, from: initialFrom });
  const input = { from: selection.from };
  // Keep the previous range's charts on screen while the next one loads: no flash, no jump. A
  // visit gets fresh data with the page; a range picked later is re-read after half a minute.
  const options = { placeholderData: keepPreviousData, staleTime: 30_000 };
  const queries = {
    summary: useQuery(trpc.metrics.summary.queryOptions(input, options)),
    series: useQuery(trpc.metrics.series.queryOptions(input, options)),
    distribution: useQuery(trpc.metrics.distribution.queryOptions(input, options)),
    steps: useQuery(trpc.metrics.steps.queryOptions(input, options)),
    rates: useQuery(trpc.metrics.rates.queryOptions(input, options)),
  };
  const all = Object.values(queries);
  const failed = all.find((query) => query.isError);
  const fetching = all.some((query) => query.isFetching);
  const { summary, series, distribution, steps, rates } = queries;
  const data: MetricsData | null =
    summary.data && series.data && distribution.data && steps.data && rates.data
      ? { summary: summary.data, series: series.data, distribution: distribution.data, steps: steps.data, rates: rates.data }
      : null;

  function select(range: TimeRangeId) {
    setSelection({ range, from: rangeStart(range, Date.now()) });
    // Keep the range in the address so a reload or a shared link shows the same view.
    const params = new URLSearchParams(window.location.search);
    params.set('range', range);
    window.history.replaceState(null, '', `?${params.toString()}`);
  }

  return (
    <>
      <div className="page-heading page-heading-split">
        <h1>Provisioning metrics</h1>
        <TimeRangeSelector value={selection.range} onChange={select} />
      </div>
      <p className="lede">How long sessions take to become ready, by strategy — from every recorded provisioning run.</p>
      <ModelledTimesNote timing={summary.data?.timing} />
      <div className="metrics" data-ready={data && !fetching ? 'true' : undefined} aria-busy={fetching}>
        {failed?.error ? (
          <ErrorState
            title="Could not load the metrics"
            error={failed.error}
            onRetry={() => all.forEach((query) => void query.refetch())}
          />
        ) : data?.summary.totalRuns === 0 ? (
          <NoRuns range={selection.range} onShowAll={() => select('all')} />
        ) : (
          <MetricsContent data={data} />
        )}
      </div>
    </>
  );
}

/** With no data yet, the same cards hold skeletons of the same size, so nothing moves when numbers arrive. */
function MetricsContent({ data }: { data: MetricsData | null }) {
  const bucketed = data?.series.some((point) => point.count > 1) ?? false;
  return (
    <>
      {data ? <SummaryTiles summary={data.summary} rates={data.rates} /> : <TilesSkeleton />}
      <Card
        title="Time to ready per run"
        description={
          bucketed
            ? 'Each point is the mean of the runs that started in one time bucket (there are too many runs to draw one by one).'
            : 'Each point is a run that reached Running, placed at the time it started.'
        }
      >
        {data ? <TimeToReadyChart series={data.series} /> : <ChartSkeleton height={TIME_TO_READY_HEIGHT} />}
      </Card>
      <div className="chart-grid">
        <Card title="Distribution" description="How many runs took how long, per strategy.">
          {data ? <DistributionChart distribution={data.distribution} /> : <ChartSkeleton height={DISTRIBUTION_HEIGHT} />}
        </Card>
        <Card title="Where the time goes" description="Mean duration of each step, stacked per strategy.">
          {data ? <StepBreakdownChart steps={data.steps} /> : <ChartSkeleton height={STEP_BREAKDOWN_HEIGHT} />}
        </Card>
      </div>
      <Card title="Why runs used bootstrap" description="Runs that could not (or stopped trying to) use the golden image, by reason.">
        {data ? <FallbackReasons reasons={data.rates.fallbacksByReason} /> : <LoadingArea label="Loading the fallback reasons" lines={2} />}
      </Card>
    </>
  );
}

function TilesSkeleton() {
  return (
    <div className="tiles" role="status">
      <span className="visually-hidden">Loading the metrics</span>
      {Array.from({ length: 5 }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: identical placeholders that never reorder.
        <div className="tile" key={i} aria-hidden="true">
          <Skeleton width="60%" />
          <Skeleton height="2rem" width="80%" />
          <Skeleton width="50%" />
        </div>
      ))}
    </div>
  );
}

function ChartSkeleton({ height }: { height: number }) {
  return (
    <ChartFrame height={height} summary="Loading">
      <Skeleton height="100%" />
    </ChartFrame>
  );
}

function NoRuns({ range, onShowAll }: { range: TimeRangeId; onShowAll: () => void }) {
  return (
    <Card>
      <EmptyState
        title={range === 'all' ? 'No provisioning runs yet' : `No provisioning runs in the ${rangeLabel(range).toLowerCase()}`}
        action={range === 'all' ? undefined : <Button onClick={onShowAll}>Show all time</Button>}
      >
        <p>
          Every session start is recorded here. <Link href="/">Start a session</Link>; to compare the two strategies, create a golden image
          on the <Link href="/admin">Admin</Link> page and start another one.
        </p>
      </EmptyState>
    </Card>
  );
}
