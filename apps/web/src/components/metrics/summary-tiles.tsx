import { StrategyBadge } from '~/components/sessions/strategy-badge';
import { formatCount, formatDuration, formatPercent } from '~/lib/format';
import type { MetricsRates, MetricsSummary } from '~/lib/trpc';

/** The headline numbers: median and p95 time-to-ready per strategy (and warm claims), the gain, the pool hit rate and the rates. */
export function SummaryTiles({ summary, rates }: { summary: MetricsSummary; rates: MetricsRates }) {
  return (
    <div className="tiles">
      {summary.strategies.map((s) => (
        <div className="tile" key={s.strategy}>
          <p className="tile-label">
            <StrategyBadge strategy={s.strategy} /> time to ready
          </p>
          <dl className="tile-pair">
            <div>
              <dt>p50</dt>
              <dd className="tile-value num">{formatDuration(s.p50Ms)}</dd>
            </div>
            <div>
              <dt>p95</dt>
              <dd className="tile-value num">{formatDuration(s.p95Ms)}</dd>
            </div>
          </dl>
          <p className="tile-note">
            {formatCount(s.successes)} ready of {formatCount(s.runs)} {s.runs === 1 ? 'run' : 'runs'}
          </p>
        </div>
      ))}
      <div className="tile">
        <p className="tile-label">Snapshot vs bootstrap</p>
        {summary.improvement === null ? (
          <>
            <p className="tile-value tile-value-muted">—</p>
            <p className="tile-note">Needs ready runs of both strategies.</p>
          </>
        ) : (
          <>
            <p className="tile-value num">{formatPercent(Math.abs(summary.improvement))}</p>
            <p className="tile-note">{summary.improvement >= 0 ? 'faster' : 'slower'} by median time to ready</p>
          </>
        )}
      </div>
      <div className="tile" data-testid="pool-hit-rate">
        <p className="tile-label">Warm pool hit rate</p>
        <p className="tile-value num">{formatPercent(summary.poolHitRate, 1)}</p>
        <p className="tile-note">of session starts claimed a ready cluster</p>
      </div>
      <div className="tile">
        <p className="tile-label">Success rate</p>
        <p className="tile-value num">{formatPercent(rates.successRate, 1)}</p>
        <p className="tile-note">of finished runs</p>
      </div>
      <div className="tile">
        <p className="tile-label">Fallback rate</p>
        <p className="tile-value num">{formatPercent(rates.fallbackRate, 1)}</p>
        <p className="tile-note">of runs that asked for snapshot</p>
      </div>
    </div>
  );
}
