import type { RunStrategy, StepName } from '@cks-lab/core';

/**
 * Strategy colours differ in hue and in lightness (they stay apart in greyscale and for the common
 * colour-vision deficiencies) and each reaches 3:1 against the white card (WCAG 1.4.11).
 */
export const STRATEGY_COLORS: Record<RunStrategy, string> = {
  warm: '#2e7d32',
  snapshot: '#0b5e8a',
  bootstrap: '#c0620f',
};

/** Scatter marks differ in shape and lines in dash, so the series never rely on colour alone. */
export const STRATEGY_SHAPES = { warm: 'diamond', snapshot: 'circle', bootstrap: 'triangle' } as const;
export const STRATEGY_DASHES: Record<RunStrategy, string | undefined> = { warm: '2 2', snapshot: undefined, bootstrap: '6 3' };

export const STEP_COLORS: Record<StepName, string> = {
  'prepare-namespace': '#5b6470',
  'create-vms-from-golden': '#0b5e8a',
  'wait-disks-cloned': '#1f8a70',
  'wait-vms-running': '#6a4c93',
  'wait-cluster-ready': '#be185d',
  'remove-failed-attempt': '#b42318',
  'create-control-plane': '#c0620f',
  'wait-control-plane-ready': '#8a4b08',
  'create-worker': '#b7791f',
};

export const AXIS_STYLE = { fontSize: 12, fill: '#4a5361' } as const;
export const GRID_COLOR = '#e3e7ec';

/** Short axis labels: 0.8s, 45s, 7.9m, 42m. */
export function formatAxisDuration(ms: number): string {
  if (ms < 10_000) return `${Math.round(ms / 100) / 10}s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  const minutes = ms / 60_000;
  return `${minutes < 10 ? Math.round(minutes * 10) / 10 : Math.round(minutes)}m`;
}

const withSeconds = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const timeOfDay = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
const dayOfMonth = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });

/** Time ticks as precise as the span needs: seconds within ten minutes, minutes within two days, dates beyond. */
export function timeTickFormatter(spanMs: number): (t: number) => string {
  if (spanMs <= 10 * 60 * 1000) return (t) => withSeconds.format(t);
  return spanMs <= 2 * 24 * 60 * 60 * 1000 ? (t) => timeOfDay.format(t) : (t) => dayOfMonth.format(t);
}
