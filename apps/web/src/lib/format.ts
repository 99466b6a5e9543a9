/** Formatting for numbers users read; every function accepts null and renders a dash for "unknown". */

const DASH = '—';

/**
 * Durations from sub-second (a warm claim takes well under a second) to hours:
 * 0.7s, 42s, 7m 53s, 1h 02m.
 */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const clamped = Math.max(0, ms);
  if (clamped < 10_000) return `${(clamped / 1000).toFixed(1)}s`;
  const totalSeconds = Math.round(clamped / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m ${String(seconds).padStart(2, '0')}s`;
}

/** A clock-style countdown: 59:07 or 1:02:03; zero or less is "expired". */
export function formatCountdown(remainingMs: number): string {
  if (remainingMs <= 0) return 'expired';
  const totalSeconds = Math.floor(remainingMs / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = String(totalSeconds % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** The same countdown in words for screen readers, which read "59:07" poorly. */
export function describeCountdown(remainingMs: number): string {
  if (remainingMs <= 0) return 'expired';
  const totalMinutes = Math.floor(remainingMs / 60_000);
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  if (hours > 0) return `${hours} h ${minutes} min left`;
  return totalMinutes > 0 ? `${totalMinutes} min left` : 'less than a minute left';
}

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

export function formatDateTime(at: number | string | null | undefined): string {
  if (at === null || at === undefined) return DASH;
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? DASH : dateTime.format(date);
}

const clockTime = new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium' });

/** A time of day to the second (22:51:07): when something is expected to happen soon. */
export function formatClockTime(at: number): string {
  return clockTime.format(new Date(at));
}

export function formatPercent(ratio: number | null | undefined, digits = 0): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return DASH;
  return `${(ratio * 100).toFixed(digits)}%`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-GB');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Disk sizes in binary units, as Kubernetes quantities are written: 10 GiB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return DASH;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** A CDI progress string ("45.20%") as a number, or null when it is not a percentage ("N/A"). */
export function parseProgress(progress: string | null | undefined): number | null {
  const match = progress?.trim().match(/^(\d+(?:\.\d+)?)\s*%$/);
  return match?.[1] ? Math.min(100, Number(match[1])) : null;
}

/** The simulator's time scale as users think of it: 0.05 → "×20 faster". */
export function formatTimeScale(scale: number): string {
  if (scale === 1) return 'real time';
  const factor = scale < 1 ? 1 / scale : scale;
  const rounded = factor >= 10 ? Math.round(factor) : Math.round(factor * 10) / 10;
  return scale < 1 ? `time ×${rounded} faster` : `time ×${rounded} slower`;
}

/** For sentences built around a label: "No golden image exists yet" → "…: no golden image exists yet". */
export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
