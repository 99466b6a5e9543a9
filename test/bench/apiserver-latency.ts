import type { TestCluster } from '../infra/cluster';

/** One `apiserver_request_duration_seconds` histogram per verb: cumulative counts by upper bound (seconds). */
export type RequestHistograms = Map<string, Map<number, number>>;

const BUCKET = /^apiserver_request_duration_seconds_bucket\{(.*)\} (\S+)$/;

/** The API server's own request-latency histograms, summed over resources, by verb (watches left out: they last as long as they are open). */
export async function scrapeRequestHistograms(cluster: TestCluster): Promise<RequestHistograms> {
  const response = await cluster.request('GET', '/metrics');
  if (!response.ok) throw new Error(`GET /metrics -> ${response.status}`);
  const histograms: RequestHistograms = new Map();
  for (const line of response.text.split('\n')) {
    const match = BUCKET.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.verb === 'WATCH' || labels.verb === 'CONNECT') continue;
    const le = labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(labels.le);
    const buckets = histograms.get(labels.verb!) ?? new Map<number, number>();
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
    histograms.set(labels.verb!, buckets);
  }
  return histograms;
}

/** Requests and latency quantiles (ms) per verb between two scrapes, interpolated within buckets as PromQL's histogram_quantile does. */
export function latencyBetween(
  before: RequestHistograms,
  after: RequestHistograms,
): Record<string, { requests: number; p50Ms: number; p95Ms: number; p99Ms: number }> {
  const result: Record<string, { requests: number; p50Ms: number; p95Ms: number; p99Ms: number }> = {};
  for (const [verb, buckets] of after) {
    const cumulative = [...buckets.entries()]
      .map(([le, count]) => [le, count - (before.get(verb)?.get(le) ?? 0)] as const)
      .sort((a, b) => a[0] - b[0]);
    const total = cumulative.at(-1)?.[1] ?? 0;
    if (total <= 0) continue;
    const quantile = (q: number): number => {
      const rank = q * total;
      let lower = 0;
      let below = 0;
      for (const [le, count] of cumulative) {
        if (count >= rank) {
          // In the +Inf bucket there is no upper bound: report the highest finite one.
          if (!Number.isFinite(le)) return lower * 1000;
          return (lower + ((le - lower) * (rank - below)) / Math.max(1, count - below)) * 1000;
        }
        lower = le;
        below = count;
      }
      return lower * 1000;
    };
    const round = (ms: number) => Math.round(ms * 10) / 10;
    result[verb] = { requests: total, p50Ms: round(quantile(0.5)), p95Ms: round(quantile(0.95)), p99Ms: round(quantile(0.99)) };
  }
  return result;
}
