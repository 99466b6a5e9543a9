import { getRuntime } from '~/server/runtime';
import { prometheusHistogram } from '~/server/prometheus';

export const dynamic = 'force-dynamic';

/** Seconds buckets spanning a restored session (~1 min) to a slow bootstrap (~15 min). */
const BUCKETS_SECONDS = [15, 30, 60, 90, 120, 180, 300, 480, 600, 900, 1200];

/** Prometheus scrape endpoint: the time-to-ready histogram per strategy, computed in SQL from persisted runs. */
export async function GET(): Promise<Response> {
  const runtime = await getRuntime();
  const rows = runtime.database.metrics.bucketCounts({ includeSynthetic: false }, BUCKETS_SECONDS.map((s) => s * 1000));
  const body = prometheusHistogram(
    'cks_lab_time_to_ready_seconds',
    'Provisioning time from request to a ready cluster, by the strategy that made it',
    BUCKETS_SECONDS,
    rows.map((row) => ({ labels: { strategy: row.strategy }, cumulative: row.buckets.map((b) => b.count), sum: row.sumMs / 1000, count: row.count })),
  );
  return new Response(body, { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
}
