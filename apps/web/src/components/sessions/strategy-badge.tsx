import type { RunStrategy } from '@cks-lab/core';
import { STRATEGY_DESCRIPTIONS } from '~/lib/labels';

/** The strategy by its known name (docs/architecture.md#names), with a shape per strategy so it never relies on colour. */
export function StrategyBadge({ strategy }: { strategy: RunStrategy | null }) {
  if (!strategy) return <span className="muted">not chosen yet</span>;
  return (
    <span className={`badge badge-${strategy}`} title={STRATEGY_DESCRIPTIONS[strategy]}>
      <span className="badge-mark" aria-hidden="true" />
      {strategy}
    </span>
  );
}
