import { describe, expect, it } from 'vitest';
import { goldenProgress, sessionProgress } from './progress';

type Step = {
  name: string;
  strategy: 'snapshot' | 'bootstrap';
  status: 'running' | 'succeeded' | 'failed';
  durationMs: number | null;
  detail: string | null;
};
const step = (
  name: string,
  status: Step['status'],
  durationMs: number | null = null,
  detail: string | null = null,
  strategy: Step['strategy'] = 'snapshot',
): Step => ({
  name,
  strategy,
  status,
  durationMs,
  detail,
});
const detail = (status: string, steps: Step[], extra: { strategy?: 'snapshot' | 'bootstrap'; fallbackReasonText?: string | null } = {}) =>
  ({
    id: '76c3ac1b',
    status,
    strategy: extra.strategy ?? 'snapshot',
    fallbackReasonText: extra.fallbackReasonText ?? null,
    steps,
  }) as never;

describe('--wait progress', () => {
  it('says the status, then each step as it starts and ends, never the same thing twice', () => {
    const first = detail('provisioning', [step('prepare-namespace', 'running')]);
    expect(sessionProgress(null, first)).toEqual(['session 76c3ac1b: provisioning (snapshot)', '  snapshot prepare-namespace: running']);
    expect(sessionProgress(first, first)).toEqual([]);
    const second = detail('provisioning', [step('prepare-namespace', 'succeeded', 2_000), step('create-vms-from-golden', 'running')]);
    expect(sessionProgress(first, second)).toEqual([
      '  snapshot prepare-namespace: succeeded in 2.0s',
      '  snapshot create-vms-from-golden: running',
    ]);
    const ready = detail('running', [step('prepare-namespace', 'succeeded', 2_000), step('create-vms-from-golden', 'succeeded', 5_000)]);
    expect(sessionProgress(second, ready)).toEqual([
      '  snapshot create-vms-from-golden: succeeded in 5.0s',
      'session 76c3ac1b: running (snapshot)',
    ]);
  });

  it('says a fallback and a failed step with its reason', () => {
    const before = detail('provisioning', [step('wait-disks-cloned', 'running')]);
    const after = detail(
      'provisioning',
      [step('wait-disks-cloned', 'failed', 40_000, 'clone failed'), step('prepare-namespace', 'running', null, null, 'bootstrap')],
      { strategy: 'bootstrap', fallbackReasonText: 'Cloning from the golden image failed' },
    );
    expect(sessionProgress(before, after)).toEqual([
      '  bootstrap because: Cloning from the golden image failed',
      '  snapshot wait-disks-cloned: failed in 40s (clone failed)',
      '  bootstrap prepare-namespace: running',
    ]);
  });

  it('follows a golden build phase by phase', () => {
    const building = { status: 'building', version: 2, phase: 'snapshot-vms' } as const;
    expect(goldenProgress(null, building)).toEqual(['golden image v2: building (snapshot-vms)']);
    expect(goldenProgress(building, building)).toEqual([]);
    expect(goldenProgress(building, { ...building, status: 'ready', phase: 'done' })).toEqual(['golden image v2: ready']);
  });
});
