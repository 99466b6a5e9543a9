/**
 * Prometheus text exposition of a histogram whose bucket counts were aggregated in SQL. prom-client
 * can only observe values one by one; replaying 100,000 runs per scrape would be wasteful, and the
 * format is small and stable.
 */
export interface HistogramSeries {
  labels: Record<string, string>;
  /** Cumulative counts for each upper bound, in order. */
  cumulative: number[];
  sum: number;
  count: number;
}

export function prometheusHistogram(name: string, help: string, bounds: number[], series: HistogramSeries[]): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
  for (const s of series) {
    const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
    for (const [i, bound] of bounds.entries())
      lines.push(`${name}_bucket{${[...labels, `le="${bound}"`].join(',')}} ${s.cumulative[i] ?? s.count}`);
    lines.push(`${name}_bucket{${[...labels, 'le="+Inf"'].join(',')}} ${s.count}`);
    lines.push(`${name}_sum{${labels.join(',')}} ${s.sum}`);
    lines.push(`${name}_count{${labels.join(',')}} ${s.count}`);
  }
  return `${lines.join('\n')}\n`;
}
