import type { inferRouterOutputs } from '@trpc/server';
import { formatDuration } from '../src/lib/format';
import type { AppRouter } from '../src/server/trpc/root';

type Outputs = inferRouterOutputs<AppRouter>;
type SessionDetail = Pick<Outputs['sessions']['get'], 'id' | 'status' | 'strategy' | 'fallbackReasonText' | 'steps'>;
type GoldenStatus = Pick<Outputs['snapshots']['status'], 'status' | 'version' | 'phase'>;

/**
 * What `--wait` prints on stderr between two reads of a session: a fallback, each step that started
 * or ended, and a changed status (first on the first read, then after the steps that led to it).
 */
export function sessionProgress(previous: SessionDetail | null, next: SessionDetail): string[] {
  const lines: string[] = [];
  const status =
    previous?.status === next.status ? [] : [`session ${next.id}: ${next.status}${next.strategy ? ` (${next.strategy})` : ''}`];
  if (!previous?.fallbackReasonText && next.fallbackReasonText) lines.push(`  bootstrap because: ${next.fallbackReasonText}`);
  for (const step of next.steps) {
    const before = previous?.steps.find((s) => s.name === step.name && s.strategy === step.strategy);
    if (before?.status === step.status) continue;
    const took = step.durationMs === null ? '' : ` in ${formatDuration(step.durationMs)}`;
    lines.push(
      `  ${step.strategy} ${step.name}: ${step.status}${took}${step.status === 'failed' && step.detail ? ` (${step.detail})` : ''}`,
    );
  }
  return previous ? [...lines, ...status] : [...status, ...lines];
}

/** The same for a golden image build: its status and phase as they change. */
export function goldenProgress(previous: GoldenStatus | null, next: GoldenStatus): string[] {
  if (previous?.status === next.status && previous.phase === next.phase && previous.version === next.version) return [];
  return [
    `golden image${next.version === null ? '' : ` v${next.version}`}: ${next.status}${next.status === 'building' && next.phase ? ` (${next.phase})` : ''}`,
  ];
}
