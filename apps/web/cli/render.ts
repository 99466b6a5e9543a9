import type { inferRouterOutputs } from '@trpc/server';
import type { Timing } from '../src/lib/durations';
import { formatDuration } from '../src/lib/format';
import type { AppRouter } from '../src/server/trpc/root';
import type { CommandName } from './commands';

type Outputs = inferRouterOutputs<AppRouter>;
type SessionDetail = Outputs['sessions']['get'];
type Metrics = Outputs['metrics']['summary'];

/**
 * The API's documents with every instant (`…At`, epoch milliseconds) as an ISO 8601 string: what
 * `--json` prints, and what the human output starts from.
 */
export function withReadableTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withReadableTimes);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [
      key,
      /At$/.test(key) && typeof v === 'number' ? new Date(v).toISOString() : withReadableTimes(v),
    ]),
  );
}

/** Human-readable output of a command (`--json` prints `withReadableTimes(result)` instead). */
export function render(command: CommandName, result: unknown, now = Date.now()): string {
  const body = renderBody(command, result, now);
  // Said once, after everything it applies to.
  const note = timingNote(result);
  return note ? `${body}\n\n${note}` : body;
}

function renderBody(command: CommandName, result: unknown, now: number): string {
  if (command === 'metrics') return renderMetrics(result as Metrics);
  if (command === 'users create' || command === 'users reset-password') {
    const { username, password } = result as { username: string; password: string };
    return `${username}: password ${password}\n(shown once: only its hash is stored)`;
  }
  if (Array.isArray(result))
    return result.length === 0 ? '(none)' : table(result.map((row) => listRow(row as Record<string, unknown>, now)));
  if (isSessionDetail(result)) return renderSession(result, now);
  return block(withReadableTimes(result) as Record<string, unknown>, now);
}

function timingNote(result: unknown): string | null {
  const first = Array.isArray(result) ? result[0] : result;
  const timing = (first as { timing?: Timing } | undefined)?.timing;
  return timing?.note ?? null;
}

function renderMetrics(m: Metrics): string {
  const rows = m.strategies.map((s) => [
    s.strategy,
    `runs ${s.runs}`,
    `ok ${s.successes}`,
    `fallbacks ${s.fallbacks}`,
    `p50 ${formatDuration(s.p50Ms)}`,
    `p95 ${formatDuration(s.p95Ms)}`,
  ]);
  const improvement =
    m.improvement === null ? 'n/a (needs runs of both strategies)' : `${(m.improvement * 100).toFixed(0)}% faster by snapshot`;
  const hitRate = m.poolHitRate === null ? 'n/a (no starts yet)' : `${(m.poolHitRate * 100).toFixed(0)}% of starts claimed a warm session`;
  return [table(rows), `improvement: ${improvement}`, `pool hit rate: ${hitRate}`].join('\n');
}

function isSessionDetail(value: unknown): value is SessionDetail {
  return typeof value === 'object' && value !== null && 'steps' in value && 'objects' in value;
}

function renderSession(s: SessionDetail, now: number): string {
  const lines = [
    `session ${s.id}: ${s.status}${s.strategy ? ` by ${s.strategy}${s.warm ? ' (claimed warm)' : ''}` : ''}`,
    `owner: ${s.owner?.name ?? '- (an internal tool)'}    namespace: ${s.namespace}`,
    `created: ${instant(s.createdAt, now)}    expires: ${instant(s.expiresAt, now)}`,
    `time to ready: ${formatDuration(s.timeToReadyMs)}`,
  ];
  if (s.fallbackReasonText) lines.push(`bootstrap because: ${s.fallbackReasonText}${s.fallbackDetail ? ` (${s.fallbackDetail})` : ''}`);
  if (s.failureReason) lines.push(`failure: ${s.failureReason}`);
  if (s.steps.length > 0) {
    lines.push(
      'steps:',
      indent(table(s.steps.map((step) => [step.name, step.strategy, step.status, formatDuration(step.durationMs), step.detail ?? '']))),
    );
  }
  if (s.objects.length > 0) lines.push('cluster objects:', indent(table(s.objects.map((o) => [o.kind, o.name, o.phase]))));
  return lines.join('\n');
}

function listRow(r: Record<string, unknown>, now: number): string[] {
  if ('role' in r)
    return [
      String(r.username ?? r.email),
      String(r.role),
      r.disabled ? 'disabled' : 'active',
      `${String(r.activeSessions)} active sessions`,
    ];
  const owner = (r.owner as { name: string } | null | undefined)?.name ?? '-';
  return [
    String(r.id),
    String(r.status),
    String(r.strategy ?? '-'),
    String(r.namespace),
    owner,
    `created ${relative(Number(r.createdAt), now)}`,
    `ready in ${formatDuration(r.timeToReadyMs as number | null)}`,
  ];
}

/** An instant as ISO 8601 and, for the reader, how far from now: 2026-11-29T22:01:00.000Z (3 min ago). */
function instant(at: number | string | null, now: number): string {
  if (at === null) return '-';
  const ms = typeof at === 'number' ? at : Date.parse(at);
  return `${new Date(ms).toISOString()} (${relative(ms, now)})`;
}

function relative(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const span = Math.abs(seconds);
  const amount =
    span < 60
      ? `${span} s`
      : span < 3600
        ? `${Math.round(span / 60)} min`
        : span < 86_400 * 2
          ? `${Math.round(span / 360) / 10} h`
          : `${Math.round(span / 86_400)} days`;
  return seconds <= 0 ? `${amount} ago` : `in ${amount}`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}

/** Any other document, key by key; instants (already ISO) get how far from now, durations are formatted, the timing is the note. */
function block(value: Record<string, unknown>, now: number, prefix = ''): string {
  return Object.entries(value)
    .filter(([key]) => key !== 'timing')
    .map(([key, v]) => {
      if (/At$/.test(key) && typeof v === 'string') return `${prefix}${key}: ${instant(v, now)}`;
      if (/Ms$/.test(key) && (typeof v === 'number' || v === null)) return `${prefix}${key.replace(/Ms$/, '')}: ${formatDuration(v)}`;
      if (Array.isArray(v)) {
        if (v.length === 0) return `${prefix}${key}: (none)`;
        const items = v.map((item) =>
          typeof item === 'object' && item
            ? Object.values(item)
                .filter((x) => x !== null)
                .map(String)
            : [String(item)],
        );
        return `${prefix}${key}:\n${indent(table(items))}`;
      }
      if (v && typeof v === 'object') return `${prefix}${key}:\n${block(v as Record<string, unknown>, now, `${prefix}  `)}`;
      return `${prefix}${key}: ${v ?? '-'}`;
    })
    .join('\n');
}
