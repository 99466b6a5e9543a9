import { describe, expect, it } from 'vitest';
import { timingOf } from '../src/lib/durations';
import { render, withReadableTimes } from './render';

const NOW = Date.UTC(2026, 10, 29, 22, 0, 0);
const MIN = 60_000;
const timing = timingOf({ timeScale: 0.05 });

const session = {
  id: '76c3ac1b',
  owner: { id: 'u1', name: 'alice' },
  namespace: 'lab-76c3ac1b',
  status: 'running',
  strategy: 'bootstrap',
  warm: false,
  createdAt: NOW - 3 * MIN,
  expiresAt: NOW + 57 * MIN,
  failureReason: null,
  fallbackReasonText: 'No golden image exists yet',
  fallbackDetail: 'golden image v2 was deleted',
  timeToReadyMs: 470_000,
  timing,
  steps: [
    {
      name: 'prepare-namespace',
      strategy: 'bootstrap',
      status: 'succeeded',
      startedAt: NOW - 3 * MIN,
      endedAt: NOW - 3 * MIN + 100,
      durationMs: 2_000,
      detail: null,
    },
    {
      name: 'create-control-plane',
      strategy: 'bootstrap',
      status: 'succeeded',
      startedAt: NOW - 2 * MIN,
      endedAt: NOW - MIN,
      durationMs: 300_000,
      detail: null,
    },
  ],
  objects: [{ kind: 'VirtualMachine', namespace: 'lab-76c3ac1b', name: 'controlplane', phase: 'Running' }],
};

describe('CLI output', () => {
  it('--json documents carry instants as ISO 8601, nested ones too, and leave durations and other numbers alone', () => {
    expect(withReadableTimes({ createdAt: NOW, timeToReadyMs: 470_000, steps: [{ startedAt: NOW, endedAt: null }], version: 3 })).toEqual({
      createdAt: '2026-11-29T22:00:00.000Z',
      timeToReadyMs: 470_000,
      steps: [{ startedAt: '2026-11-29T22:00:00.000Z', endedAt: null }],
      version: 3,
    });
  });

  it('a session: instants as ISO and relative, durations readable, the modelled note once at the end', () => {
    const text = render('sessions get', session, NOW);
    expect(text).toContain('session 76c3ac1b: running by bootstrap');
    expect(text).toContain('created: 2026-11-29T21:57:00.000Z (3 min ago)');
    expect(text).toContain('expires: 2026-11-29T22:57:00.000Z (in 57 min)');
    expect(text).toContain('time to ready: 7m 50s');
    expect(text).toContain('bootstrap because: No golden image exists yet (golden image v2 was deleted)');
    expect(text).toMatch(/create-control-plane\s+bootstrap\s+succeeded\s+5m 00s/);
    expect(text).toMatch(/VirtualMachine\s+controlplane\s+Running/);
    expect(text).not.toMatch(/\b1\d{12}\b/);
    expect(text.match(/Times are modelled/g)).toHaveLength(1);
    expect(text.endsWith(timing.note!)).toBe(true);
  });

  it('a list: one row per session with its age and time to ready, the note once', () => {
    const text = render('sessions list', [session, { ...session, id: 'deadbeef', owner: null, timeToReadyMs: null }], NOW);
    const [first, second] = text.split('\n');
    expect(first).toMatch(/^76c3ac1b\s+running\s+bootstrap\s+lab-76c3ac1b\s+alice\s+created 3 min ago\s+ready in 7m 50s$/);
    expect(second).toMatch(/^deadbeef .* - .*ready in —$/);
    expect(text.match(/Times are modelled/g)).toHaveLength(1);
    expect(render('sessions list', [], NOW)).toBe('(none)');
  });

  it('metrics: percentiles readable, and no note when times are measured', () => {
    const metrics = {
      strategies: [
        { strategy: 'snapshot', runs: 4, successes: 4, failures: 0, fallbacks: 0, p50Ms: 65_000, p95Ms: 90_000, meanMs: 70_000 },
      ],
      improvement: 0.85,
      poolHitRate: null,
      totalRuns: 4,
      fallbackRate: 0,
      successRate: 1,
      timing: timingOf(null),
    };
    const text = render('metrics', metrics, NOW);
    expect(text).toMatch(/^snapshot\s+runs 4\s+ok 4\s+fallbacks 0\s+p50 1m 05s\s+p95 1m 30s$/m);
    expect(text).toContain('improvement: 85% faster by snapshot');
    expect(text).not.toContain('modelled');
  });

  it('any other document: instants with how far from now, durations readable, the timing left out', () => {
    const text = render('pool status', { target: 2, retryAt: '2026-11-29T22:05:00.000Z', lastFailureMs: 1_500, members: [] }, NOW);
    expect(text).toBe(['target: 2', 'retryAt: 2026-11-29T22:05:00.000Z (in 5 min)', 'lastFailure: 1.5s', 'members: (none)'].join('\n'));
  });
});
