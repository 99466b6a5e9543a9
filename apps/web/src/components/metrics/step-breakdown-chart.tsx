'use client';

import { STRATEGIES, type StepName, type Strategy } from '@cks-lab/core';
import { Bar, BarChart, CartesianGrid, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDuration } from '~/lib/format';
import { stepLabel } from '~/lib/labels';
import type { MetricsSteps } from '~/lib/trpc';
import { ChartFrame } from './chart-frame';
import { AXIS_STYLE, formatAxisDuration, GRID_COLOR, STEP_COLORS } from './chart-theme';
import { ChartTooltip, TooltipRow } from './chart-tooltip';

/** Legend-sized step names; the tooltip uses the full ones. */
const SHORT_STEP_LABELS: Record<StepName, string> = {
  'prepare-namespace': 'Namespace & network',
  'create-vms-from-golden': 'Create VMs',
  'wait-disks-cloned': 'Clone disks',
  'wait-vms-running': 'Start VMs',
  'wait-cluster-ready': 'Cluster ready',
  'remove-failed-attempt': 'Remove failed attempt',
  'create-control-plane': 'Create control plane',
  'wait-control-plane-ready': 'kubeadm init',
  'create-worker': 'Create worker',
};

/** Segments are keyed `strategy:step`, so each strategy stacks its own steps in the order they run. */
type SegmentKey = `${Strategy}:${StepName}`;
type StepRow = { strategy: Strategy } & Partial<Record<SegmentKey, number>>;

export interface Segment {
  key: SegmentKey;
  step: StepName;
  /** Only the first segment of a step name gets a legend entry; both strategies share the colour. */
  inLegend: boolean;
}

export const STEP_BREAKDOWN_HEIGHT = 260;

/** One row per strategy that has steps, and the segments to stack, in the order the steps run. */
export function stepRows(steps: MetricsSteps): { rows: StepRow[]; segments: Segment[] } {
  const rows = STRATEGIES.map((strategy): StepRow => ({ strategy }));
  const segments: Segment[] = [];
  for (const strategy of STRATEGIES) {
    for (const { step, meanMs } of steps.filter((s) => s.strategy === strategy)) {
      const key: SegmentKey = `${strategy}:${step}`;
      const row = rows.find((r) => r.strategy === strategy);
      if (row) row[key] = meanMs;
      segments.push({ key, step, inLegend: !segments.some((segment) => segment.step === step) });
    }
  }
  return { rows: rows.filter((row) => Object.keys(row).length > 1), segments };
}

export function StepBreakdownChart({ steps }: { steps: MetricsSteps }) {
  const { rows, segments } = stepRows(steps);
  if (rows.length === 0) {
    return (
      <ChartFrame
        height={STEP_BREAKDOWN_HEIGHT}
        summary="No finished steps in this range."
        empty={<p>No finished steps in this range yet.</p>}
      />
    );
  }
  const summary = rows
    .map((row) => {
      const own = segments.filter((segment) => row[segment.key] !== undefined);
      return `${row.strategy}: ${own.map((segment) => `${SHORT_STEP_LABELS[segment.step]} ${formatDuration(row[segment.key])}`).join(', ')}`;
    })
    .join('; ');
  return (
    <ChartFrame height={STEP_BREAKDOWN_HEIGHT} summary={summary}>
      <div className="chart-body">
        <BarChart
          responsive
          layout="vertical"
          style={{ width: '100%', height: '100%' }}
          data={rows}
          barCategoryGap="24%"
          margin={{ top: 8, right: 16, bottom: 0, left: 0 }}
        >
          <CartesianGrid stroke={GRID_COLOR} horizontal={false} />
          <XAxis type="number" tickFormatter={formatAxisDuration} tick={AXIS_STYLE} />
          <YAxis type="category" dataKey="strategy" tick={AXIS_STYLE} width={76} />
          <Tooltip
            cursor={{ fill: 'rgba(29, 79, 145, 0.08)' }}
            content={({ active, payload, label }) => {
              if (!active || !payload?.length) return null;
              return (
                <ChartTooltip title={`${String(label)}: mean per step`}>
                  {payload.map((entry) => {
                    const step = String(entry.dataKey).split(':')[1] as StepName;
                    return (
                      <TooltipRow
                        key={String(entry.dataKey)}
                        color={STEP_COLORS[step]}
                        label={stepLabel(step)}
                        value={formatDuration(Number(entry.value))}
                      />
                    );
                  })}
                </ChartTooltip>
              );
            }}
          />
          {segments.map(({ key, step }) => (
            <Bar
              key={key}
              dataKey={key}
              name={SHORT_STEP_LABELS[step]}
              stackId="steps"
              fill={STEP_COLORS[step]}
              stroke="#fff"
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </div>
      <StepLegend steps={segments.filter((segment) => segment.inLegend).map((segment) => segment.step)} />
    </ChartFrame>
  );
}

/**
 * Nine step names wrap onto several lines on a phone; as HTML below the plot they take the room
 * they need, where a chart legend would overlap the axis. In the order the steps run.
 */
function StepLegend({ steps }: { steps: StepName[] }) {
  return (
    <ul className="chart-legend" aria-label="Steps">
      {steps.map((step) => (
        <li key={step}>
          <span className="swatch" style={{ background: STEP_COLORS[step] }} aria-hidden="true" />
          {SHORT_STEP_LABELS[step]}
        </li>
      ))}
    </ul>
  );
}
