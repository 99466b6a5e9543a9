/** The metrics page's time ranges; "all" has no lower bound. */
export const TIME_RANGES = [
  { id: 'hour', label: 'Last hour', spanMs: 60 * 60 * 1000 },
  { id: 'day', label: 'Last day', spanMs: 24 * 60 * 60 * 1000 },
  { id: 'week', label: 'Last week', spanMs: 7 * 24 * 60 * 60 * 1000 },
  { id: 'all', label: 'All time', spanMs: null },
] as const;

export type TimeRangeId = (typeof TIME_RANGES)[number]['id'];

const DEFAULT_RANGE: TimeRangeId = 'week';

export function parseRange(value: string | string[] | undefined): TimeRangeId {
  return TIME_RANGES.find((range) => range.id === value)?.id ?? DEFAULT_RANGE;
}

export function rangeLabel(id: TimeRangeId): string {
  return TIME_RANGES.find((range) => range.id === id)?.label ?? id;
}

/**
 * The lower bound for a range, fixed when the range is picked (not on every render), so the
 * query key stays stable; rounded down to the minute so reloads within a minute share the cache.
 */
export function rangeStart(id: TimeRangeId, now: number): number | undefined {
  const span = TIME_RANGES.find((range) => range.id === id)?.spanMs;
  if (span === null || span === undefined) return undefined;
  return Math.floor((now - span) / 60_000) * 60_000;
}
