import { MEASURED, runTiming, shownMs, type Timing, timingOf } from '~/lib/durations';
import { prometheusHistogram } from '~/server/prometheus';
import { getRuntime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** Seconds buckets spanning a warm claim (under a second), a restored session (~1 min) and a slow bootstrap (~15 min). */
const BUCKETS_SECONDS = [1, 15, 30, 60, 90, 120, 180, 300, 480, 600, 900, 1200];

/** Prometheus scrape endpoint: the time-to-ready histogram per strategy (computed in SQL from persisted runs) and the warm pool. */
export async function GET(): Promise<Response> {
  const runtime = await getRuntime();
  const timing = timingOf(runtime.simulation);
  // The buckets are in shown (on the simulator: modelled) seconds, the database counts measured
  // milliseconds; warm claims are shown as measured, so theirs are counted against their own bounds.
  const counted = (shown: Timing) =>
    runtime.database.metrics.bucketCounts(
      {},
      BUCKETS_SECONDS.map((s) => (s * 1000) / shown.rate),
    );
  const modelled = counted(timing);
  const measured = timing.modelled ? counted(MEASURED) : modelled;
  const rows = modelled.map((row) => (row.strategy === 'warm' ? measured.find((m) => m.strategy === 'warm')! : row));
  const body = prometheusHistogram(
    'cks_lab_time_to_ready_seconds',
    `Time from request to a ready cluster, by the strategy that made it (warm: claimed from the pool)${timing.modelled ? '; modelled: what the simulator says a real cluster would take' : ''}`,
    BUCKETS_SECONDS,
    rows.map((row) => ({
      labels: { strategy: row.strategy },
      cumulative: row.buckets.map((b) => b.count),
      sum: shownMs(runTiming(timing, row.strategy), row.sumMs) / 1000,
      count: row.count,
    })),
  );
  const { poolHitRate } = runtime.database.metrics.summary();
  const pool = await runtime.lab.poolStatus();
  const gauges = [
    gauge(
      'cks_lab_pool_hit_ratio',
      'Session starts served from the warm pool among all starts',
      poolHitRate === null ? [] : [['', poolHitRate]],
    ),
    gauge('cks_lab_warm_pool_target', 'Warm-pool members to keep ready', [['', pool.target]]),
    gauge('cks_lab_warm_pool_members', 'Unclaimed warm-pool members by state', [
      ['{state="ready"}', pool.ready],
      ['{state="provisioning"}', pool.provisioning],
    ]),
    gauge('cks_lab_warm_pool_consecutive_failures', 'Warm-pool members that failed in a row', [['', pool.failing]]),
  ];
  return new Response(body + gauges.join(''), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' } });
}

function gauge(name: string, help: string, samples: Array<[labels: string, value: number]>): string {
  return `${[`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples.map(([labels, value]) => `${name}${labels} ${value}`)].join('\n')}\n`;
}
