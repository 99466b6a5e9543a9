import type { ReactNode } from 'react';

/**
 * A chart's box: a fixed height whether it shows a chart, a skeleton or an empty message, so
 * nothing below moves when data arrives. The summary sentence is the text alternative.
 */
export function ChartFrame({
  height,
  summary,
  empty,
  children,
}: {
  height: number;
  summary: string;
  empty?: ReactNode;
  children?: ReactNode;
}) {
  return (
    <figure className="chart" style={{ height }}>
      {empty ? <div className="chart-empty">{empty}</div> : children}
      <figcaption className="visually-hidden">{summary}</figcaption>
    </figure>
  );
}
