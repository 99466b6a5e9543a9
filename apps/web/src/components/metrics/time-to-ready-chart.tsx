'use client';

import { RUN_STRATEGIES, type RunStrategy } from '@cks-lab/core';
import { CartesianGrid, Legend, Line, LineChart, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDateTime, formatDuration } from '~/lib/format';
import type { MetricsSeries } from '~/lib/trpc';
import { ChartFrame } from './chart-frame';
import {
  AXIS_STYLE,
  formatAxisDuration,
  GRID_COLOR,
  STRATEGY_COLORS,
  STRATEGY_DASHES,
  STRATEGY_SHAPES,
  timeTickFormatter,
} from './chart-theme';
import { ChartTooltip, TooltipRow } from './chart-tooltip';

type Point = MetricsSeries[number];

export const TIME_TO_READY_HEIGHT = 300;

/**
 * Time-to-ready over time, by strategy, warm claims too (near zero: the wait the pool saved). Individual runs are dots; once there are too many to draw
 * one by one the server averages them into time buckets, and those are drawn as a line — a
 * few hundred SVG symbols cost far more to render than two paths.
 */
export function TimeToReadyChart({ series }: { series: MetricsSeries }) {
  if (series.length === 0) {
    return (
      <ChartFrame
        height={TIME_TO_READY_HEIGHT}
        summary="No successful runs in this range."
        empty={<p>No successful runs in this range yet.</p>}
      />
    );
  }
  const times = series.map((point) => point.t);
  const first = Math.min(...times);
  const last = Math.max(...times);
  // A margin on both sides keeps edge points off the axes, and gives a single run a visible span.
  const pad = Math.max((last - first) * 0.03, 60_000);
  const bucketed = series.some((point) => point.count > 1);
  const byStrategy = RUN_STRATEGIES.map((strategy) => ({ strategy, points: series.filter((point) => point.strategy === strategy) })).filter(
    ({ points }) => points.length > 0,
  );
  const Chart = bucketed ? LineChart : ScatterChart;

  return (
    <ChartFrame
      height={TIME_TO_READY_HEIGHT}
      summary={byStrategy.map(({ strategy, points }) => `${strategy}: ${points.length} ${bucketed ? 'time buckets' : 'runs'}`).join('; ')}
    >
      <Chart responsive style={{ width: '100%', height: TIME_TO_READY_HEIGHT }} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
        <CartesianGrid stroke={GRID_COLOR} />
        <XAxis
          type="number"
          dataKey="t"
          name="Started"
          scale="time"
          domain={[first - pad, last + pad]}
          tickFormatter={timeTickFormatter(last - first + 2 * pad)}
          tick={AXIS_STYLE}
          minTickGap={24}
        />
        <YAxis
          type="number"
          dataKey="durationMs"
          name="Time to ready"
          domain={[0, 'auto']}
          tickFormatter={formatAxisDuration}
          tick={AXIS_STYLE}
          width={48}
        />
        <Tooltip content={({ active, payload }) => (active ? <PointTooltip point={payload?.[0]?.payload as Point | undefined} /> : null)} />
        <Legend itemSorter={null} />
        {byStrategy.map(({ strategy, points }) =>
          bucketed ? (
            <Line
              key={strategy}
              name={strategy}
              data={points}
              dataKey="durationMs"
              stroke={STRATEGY_COLORS[strategy]}
              strokeWidth={2}
              strokeDasharray={STRATEGY_DASHES[strategy]}
              dot={false}
              isAnimationActive={false}
            />
          ) : (
            <Scatter
              key={strategy}
              name={strategy}
              data={points}
              fill={STRATEGY_COLORS[strategy]}
              shape={STRATEGY_SHAPES[strategy]}
              legendType={STRATEGY_SHAPES[strategy]}
              isAnimationActive={false}
            />
          ),
        )}
      </Chart>
    </ChartFrame>
  );
}

function PointTooltip({ point }: { point: Point | undefined }) {
  if (!point) return null;
  return (
    <ChartTooltip title={formatDateTime(point.t)}>
      <TooltipRow color={STRATEGY_COLORS[point.strategy as RunStrategy]} label={point.strategy} value={formatDuration(point.durationMs)} />
      {point.count > 1 && <p className="chart-tooltip-note">mean of {point.count} runs</p>}
    </ChartTooltip>
  );
}
