import { describe, expect, it } from 'vitest';
import { binRows } from './distribution-chart';
import { stepRows } from './step-breakdown-chart';
import { parseRange, rangeStart } from './time-range';

describe('binRows', () => {
  it('merges both strategies’ bins on their shared edges, in order', () => {
    const rows = binRows([
      { strategy: 'snapshot', fromMs: 1000, toMs: 2000, count: 3 },
      { strategy: 'snapshot', fromMs: 0, toMs: 1000, count: 5 },
      { strategy: 'bootstrap', fromMs: 1000, toMs: 2000, count: 7 },
      { strategy: 'bootstrap', fromMs: 0, toMs: 1000, count: 0 },
    ]);
    expect(rows).toEqual([
      { label: '0s', fromMs: 0, toMs: 1000, snapshot: 5, bootstrap: 0 },
      { label: '1s', fromMs: 1000, toMs: 2000, snapshot: 3, bootstrap: 7 },
    ]);
  });

  it('blanks labels that would repeat along the axis', () => {
    const rows = binRows([
      { strategy: 'bootstrap', fromMs: 9_900, toMs: 9_901, count: 1 },
      { strategy: 'bootstrap', fromMs: 9_901, toMs: 9_902, count: 0 },
      { strategy: 'bootstrap', fromMs: 10_100, toMs: 10_101, count: 0 },
    ]);
    expect(rows.map((row) => row.label)).toEqual(['9.9s', '', '10s']);
  });
});

describe('stepRows', () => {
  it('stacks each strategy’s own steps in the order they run, one legend entry per step name', () => {
    const { rows, segments } = stepRows([
      { strategy: 'snapshot', step: 'prepare-namespace', meanMs: 1500, count: 10 },
      { strategy: 'snapshot', step: 'wait-cluster-ready', meanMs: 45_000, count: 10 },
      { strategy: 'bootstrap', step: 'prepare-namespace', meanMs: 1600, count: 4 },
      { strategy: 'bootstrap', step: 'wait-control-plane-ready', meanMs: 325_000, count: 4 },
      { strategy: 'bootstrap', step: 'wait-cluster-ready', meanMs: 145_000, count: 4 },
    ]);
    expect(segments).toEqual([
      { key: 'snapshot:prepare-namespace', step: 'prepare-namespace', inLegend: true },
      { key: 'snapshot:wait-cluster-ready', step: 'wait-cluster-ready', inLegend: true },
      { key: 'bootstrap:prepare-namespace', step: 'prepare-namespace', inLegend: false },
      { key: 'bootstrap:wait-control-plane-ready', step: 'wait-control-plane-ready', inLegend: true },
      { key: 'bootstrap:wait-cluster-ready', step: 'wait-cluster-ready', inLegend: false },
    ]);
    expect(rows).toEqual([
      { strategy: 'snapshot', 'snapshot:prepare-namespace': 1500, 'snapshot:wait-cluster-ready': 45_000 },
      {
        strategy: 'bootstrap',
        'bootstrap:prepare-namespace': 1600,
        'bootstrap:wait-control-plane-ready': 325_000,
        'bootstrap:wait-cluster-ready': 145_000,
      },
    ]);
  });

  it('leaves out a strategy without runs', () => {
    const { rows } = stepRows([{ strategy: 'bootstrap', step: 'create-worker', meanMs: 800, count: 1 }]);
    expect(rows.map((row) => row.strategy)).toEqual(['bootstrap']);
  });
});

describe('time ranges', () => {
  it('accepts known ranges from the address and defaults otherwise', () => {
    expect(parseRange('day')).toBe('day');
    expect(parseRange('forever')).toBe('week');
    expect(parseRange(undefined)).toBe('week');
  });

  it('starts a range on a whole minute so the query key is stable, and "all" has no start', () => {
    const now = Date.UTC(2026, 0, 1, 12, 30, 45);
    expect(rangeStart('hour', now)).toBe(Date.UTC(2026, 0, 1, 11, 30, 0));
    expect(rangeStart('all', now)).toBeUndefined();
  });
});
