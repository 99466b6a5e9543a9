import type { ReactNode } from 'react';

/** The box every chart tooltip uses, so they look alike. */
export function ChartTooltip({ title, children }: { title: ReactNode; children: ReactNode }) {
  return (
    <div className="chart-tooltip">
      <p className="chart-tooltip-title">{title}</p>
      {children}
    </div>
  );
}

export function TooltipRow({ color, label, value }: { color: string; label: string; value: string }) {
  return (
    <p className="chart-tooltip-row">
      <span className="swatch" style={{ background: color }} aria-hidden="true" />
      <span>{label}</span>
      <span className="num">{value}</span>
    </p>
  );
}
