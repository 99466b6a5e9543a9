import type { Metadata } from 'next';
import { MetricsDashboard } from '~/components/metrics/metrics-dashboard';
import { parseRange } from '~/components/metrics/time-range';

export const metadata: Metadata = { title: 'Metrics' };

interface Props {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}

export default async function Page({ searchParams }: Props) {
  const params = await searchParams;
  // Synthetic (seeded) runs are never shown as history unless the address asks for them.
  return <MetricsDashboard initialRange={parseRange(params.range)} includeSynthetic={params.synthetic === '1'} />;
}
