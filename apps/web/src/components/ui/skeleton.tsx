/**
 * Grey placeholders with the size of what is loading, so content arriving does not move the page.
 * The label is announced once for the whole area; the shapes themselves are hidden from assistive tech.
 */
export function Skeleton({ width = '100%', height = '1rem' }: { width?: string; height?: string }) {
  return <span className="skeleton" style={{ width, height }} aria-hidden="true" />;
}

export function LoadingArea({ label, lines = 3, lineHeight = '1.25rem' }: { label: string; lines?: number; lineHeight?: string }) {
  return (
    <div className="loading-area" role="status" aria-live="polite">
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: lines }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: identical placeholder lines that never reorder.
        <Skeleton key={i} height={lineHeight} width={i === lines - 1 && lines > 1 ? '60%' : '100%'} />
      ))}
    </div>
  );
}
