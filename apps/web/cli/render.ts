/** Human-readable output of the CLI (`--json` prints the raw documents instead). */
export function render(command: string, result: unknown): string {
  if (Array.isArray(result)) return result.length === 0 ? '(none)' : result.map((row) => line(row)).join('\n');
  if (command === 'metrics') return renderMetrics(result as Metrics);
  if (command === 'users create' || command === 'users reset-password') {
    const { username, password } = result as { username: string; password: string };
    return `${username}: password ${password}\n(shown once: only its hash is stored)`;
  }
  return block(result as Record<string, unknown>);
}

type Metrics = {
  strategies: Array<{ strategy: string; runs: number; successes: number; fallbacks: number; p50Ms: number | null; p95Ms: number | null }>;
  improvement: number | null;
  poolHitRate: number | null;
};

function renderMetrics(m: Metrics): string {
  const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)}s`);
  const rows = m.strategies.map(
    (s) => `${s.strategy.padEnd(10)} runs ${String(s.runs).padStart(5)}  ok ${String(s.successes).padStart(5)}  fallbacks ${String(s.fallbacks).padStart(4)}  p50 ${seconds(s.p50Ms).padStart(8)}  p95 ${seconds(s.p95Ms).padStart(8)}`,
  );
  const improvement = m.improvement === null ? 'n/a (needs runs of both strategies)' : `${(m.improvement * 100).toFixed(0)}% faster by snapshot`;
  const hitRate = m.poolHitRate === null ? 'n/a (no starts yet)' : `${(m.poolHitRate * 100).toFixed(0)}% of starts claimed a warm session`;
  return [...rows, `improvement: ${improvement}`, `pool hit rate: ${hitRate}`].join('\n');
}

function line(row: unknown): string {
  if (typeof row !== 'object' || row === null) return String(row);
  const r = row as Record<string, unknown>;
  if ('role' in r) return [r.username ?? r.email, r.role, r.disabled ? 'disabled' : 'active', `${String(r.activeSessions)} active sessions`].join('\t');
  const owner = (r.owner as { name: string } | null | undefined)?.name;
  return [r.id, r.status, r.strategy ?? '-', r.namespace, owner].filter((v) => v !== undefined).join('\t');
}

function block(value: Record<string, unknown>, indent = ''): string {
  return Object.entries(value)
    .map(([key, v]) => {
      if (Array.isArray(v)) return `${indent}${key}:\n${v.map((item) => `${indent}  - ${typeof item === 'object' && item ? Object.values(item).filter((x) => x !== null).join('  ') : String(item)}`).join('\n')}`;
      if (v && typeof v === 'object') return `${indent}${key}:\n${block(v as Record<string, unknown>, `${indent}  `)}`;
      return `${indent}${key}: ${v ?? '-'}`;
    })
    .join('\n');
}
