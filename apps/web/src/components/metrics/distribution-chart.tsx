'use client';

import { STRATEGIES } from '@cks-lab/core';
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from 'recharts';
import { formatCount, formatDuration } from '~/lib/format';
import type { MetricsDistribution } from '~/lib/trpc';
import { ChartFrame } from './chart-frame';
import { AXIS_STYLE, formatAxisDuration, GRID_COLOR, STRATEGY_COLORS } from './chart-theme';
import { ChartTooltip, TooltipRow } from './chart-tooltip';

interface BinRow {
  /** The bin's lower edge as an axis label; blank when it reads the same as the previous one. */
  label: string;
  fromMs: number;
  toMs: number;
  snapshot: number;
  bootstrap: number;
}

export const DISTRIBUTION_HEIGHT = 260;

/** Both strategies share the bin edges (packages/db), so their bins are merged into one row each. */
export function binRows(distribution: MetricsDistribution): BinRow[] {
  const rows = new Map<number, BinRow>();
  for (const bin of distribution) {
    const row = rows.get(bin.fromMs) ?? { label: '', fromMs: bin.fromMs, toMs: bin.toMs, snapshot: 0, bootstrap: 0 };
    row[bin.strategy] += bin.count;
    rows.set(bin.fromMs, row);
  }
  // Narrow bins (few, similar runs) would repeat the same rounded label along the whole axis.
  let previous = '';
  return [...rows.values()]
    .sort((a, b) => a.fromMs - b.fromMs)
    .map((row) => {
      const label = formatAxisDuration(row.fromMs);
      const shown = label === previous ? '' : label;
      previous = label;
      return { ...row, label: shown };
    });
}

export function DistributionChart({ distribution }: { distribution: MetricsDistribution }) {
  const rows = binRows(distribution);
  if (rows.length === 0) {
    return (
      <ChartFrame
        height={DISTRIBUTION_HEIGHT}
        summary="No successful runs in this range."
        empty={<p>No successful runs in this range yet.</p>}
      />
    );
  }
  return (
    <ChartFrame
      height={DISTRIBUTION_HEIGHT}
      summary={`Histogram of time to ready in ${rows.length} bins from ${formatDuration(rows[0]?.fromMs)} to ${formatDuration(rows[rows.length - 1]?.toMs)}.`}
    >
      <BarChart
        responsive
        style={{ width: '100%', height: DISTRIBUTION_HEIGHT }}
        data={rows}
        barCategoryGap="8%"
        margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
      >
        <CartesianGrid stroke={GRID_COLOR} vertical={false} />
        <XAxis dataKey="label" tick={AXIS_STYLE} interval="preserveStartEnd" minTickGap={16} />
        <YAxis allowDecimals={false} tick={AXIS_STYLE} width={48} tickFormatter={(n: number) => formatCount(n)} />
        <Tooltip
          cursor={{ fill: 'rgba(29, 79, 145, 0.08)' }}
          content={({ active, payload }) => {
            const row = payload?.[0]?.payload as BinRow | undefined;
            if (!active || !row) return null;
            return (
              <ChartTooltip title={`${formatDuration(row.fromMs)} – ${formatDuration(row.toMs)}`}>
                {STRATEGIES.map((strategy) => (
                  <TooltipRow
                    key={strategy}
                    color={STRATEGY_COLORS[strategy]}
                    label={strategy}
                    value={`${formatCount(row[strategy])} runs`}
                  />
                ))}
              </ChartTooltip>
            );
          }}
        />
        <Legend itemSorter={null} />
        {STRATEGIES.map((strategy) => (
          // Stacked: the strategies rarely share a bin, and stacking keeps the bars wide enough to read.
          <Bar
            key={strategy}
            dataKey={strategy}
            name={strategy}
            stackId="runs"
            fill={STRATEGY_COLORS[strategy]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </ChartFrame>
  );
}
