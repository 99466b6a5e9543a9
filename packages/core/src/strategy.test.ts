import { describe, expect, it } from 'vitest';
import { FALLBACK_REASON_TEXT, otherStrategy, type StrategyInputs, selectStrategy } from './strategy';
import type { FallbackReason, GoldenDiskState, GoldenImage, Preflight } from './types';

const NOW = Date.UTC(2025, 5, 1);
const K8S = 'v1.34.2';

const golden = (overrides: Partial<GoldenImage> = {}): GoldenImage => ({
  version: 4,
  status: 'ready',
  phase: 'done',
  sourceSessionId: '76c3ac1b',
  k8sVersion: K8S,
  createdAt: NOW - 1000,
  readyAt: NOW - 500,
  supersededAt: null,
  certsIssuedAt: NOW - 1000,
  expiresAt: NOW + 86_400_000,
  disks: [
    { role: 'control-plane', volumeSnapshot: 'vs-cp', pvc: 'cks-control-plane-golden-v4', sizeBytes: 1 },
    { role: 'worker', volumeSnapshot: 'vs-w', pvc: 'cks-worker-golden-v4', sizeBytes: 1 },
  ],
  failureReason: null,
  ...overrides,
});

const disk = (role: GoldenDiskState['role'], phase = 'Succeeded'): GoldenDiskState => ({
  role,
  name: `${role}-golden-v4`,
  phase,
  progress: '100.0%',
  cloneFallbackReason: null,
});

const supported: Preflight = { checks: [], snapshotSupported: true, snapshotUnsupportedReason: null };

const inputs = (overrides: Partial<StrategyInputs> = {}): StrategyInputs => ({
  golden: golden(),
  newest: golden(),
  goldenDisks: [disk('control-plane'), disk('worker')],
  preflight: supported,
  k8sVersion: K8S,
  now: NOW,
  ...overrides,
});

describe('selectStrategy', () => {
  it('chooses snapshot when a ready, matching, unexpired golden image has both disks ready', () => {
    const decision = selectStrategy(inputs());
    expect(decision.strategy).toBe('snapshot');
    expect(decision.reason).toBeNull();
    expect(decision.golden?.version).toBe(4);
    expect(decision.detail).toContain('v4');
  });

  it('falls back with no-golden-image when none was ever built', () => {
    const decision = selectStrategy(inputs({ golden: null, newest: null, goldenDisks: [] }));
    expect(decision).toMatchObject({
      strategy: 'bootstrap',
      golden: null,
      reason: 'no-golden-image',
      detail: 'no golden image has been built yet',
    });
  });

  it('falls back with golden-build-failed and the build failure when the newest image failed to build', () => {
    const failed = golden({ version: 5, status: 'failed', failureReason: 'control-plane snapshot is partial: no root disk' });
    const decision = selectStrategy(inputs({ golden: null, newest: failed, goldenDisks: [] }));
    expect(decision).toMatchObject({
      strategy: 'bootstrap',
      reason: 'golden-build-failed',
      detail: 'the build of golden image v5 failed: control-plane snapshot is partial: no root disk',
    });
    expect(selectStrategy(inputs({ golden: null, newest: { ...failed, failureReason: null } })).detail).toMatch(
      /v5 failed: no reason was recorded/,
    );
  });

  it('uses the active image even when a newer rebuild failed', () => {
    const decision = selectStrategy(inputs({ newest: golden({ version: 5, status: 'failed', failureReason: 'boom' }) }));
    expect(decision).toMatchObject({ strategy: 'snapshot', reason: null });
  });

  it.each<[GoldenImage['status'], RegExp]>([
    ['deleting', /^golden image v4 was deleted$/],
    ['deleted', /^golden image v4 was deleted$/],
    ['building', /^golden image v4 is still being built$/],
  ])('says a %s newest image is one, never that none was built', (status, detail) => {
    const decision = selectStrategy(inputs({ golden: null, newest: golden({ status }), goldenDisks: [] }));
    expect(decision).toMatchObject({ strategy: 'bootstrap', reason: 'no-golden-image' });
    expect(decision.detail).toMatch(detail);
  });

  it.each<[string, Partial<StrategyInputs>, RegExp]>([
    ['a disk still cloning', { goldenDisks: [disk('control-plane'), disk('worker', 'CloneInProgress')] }, /worker disk is not ready/],
    ['a failed disk', { goldenDisks: [disk('control-plane', 'Failed'), disk('worker')] }, /control-plane disk/],
    ['a disk missing from the cluster', { goldenDisks: [disk('control-plane')] }, /worker disk/],
    ['no disk in the cluster at all', { goldenDisks: [] }, /control-plane and worker disk/],
    ['a record with one disk only', { golden: golden({ disks: golden().disks.slice(0, 1) }) }, /not ready/],
  ])('falls back with golden-not-ready for %s', (_label, overrides, detail) => {
    const decision = selectStrategy(inputs(overrides));
    expect(decision).toMatchObject({ strategy: 'bootstrap', golden: null, reason: 'golden-not-ready' });
    expect(decision.detail).toMatch(detail);
  });

  it('falls back with version-mismatch when the golden image runs another Kubernetes version', () => {
    const decision = selectStrategy(inputs({ golden: golden({ k8sVersion: 'v1.33.5' }) }));
    expect(decision).toMatchObject({ strategy: 'bootstrap', reason: 'version-mismatch' });
    expect(decision.detail).toContain('v1.33.5');
    expect(decision.detail).toContain(K8S);
  });

  it('falls back with golden-expired at and after the expiry, not before', () => {
    expect(selectStrategy(inputs({ golden: golden({ expiresAt: NOW }) }))).toMatchObject({
      strategy: 'bootstrap',
      reason: 'golden-expired',
    });
    expect(selectStrategy(inputs({ golden: golden({ expiresAt: NOW - 1 }) })).reason).toBe('golden-expired');
    expect(selectStrategy(inputs({ golden: golden({ expiresAt: NOW + 1 }) })).strategy).toBe('snapshot');
  });

  it('falls back with snapshot-unsupported (and the preflight words) when the cluster lacks snapshots', () => {
    const preflight: Preflight = { checks: [], snapshotSupported: false, snapshotUnsupportedReason: 'Snapshot feature gate is off' };
    const decision = selectStrategy(inputs({ preflight }));
    expect(decision).toMatchObject({ strategy: 'bootstrap', reason: 'snapshot-unsupported', detail: 'Snapshot feature gate is off' });
    // Also without a golden image: the missing feature is the more fundamental reason.
    expect(selectStrategy(inputs({ preflight, golden: null })).reason).toBe('snapshot-unsupported');
    expect(selectStrategy(inputs({ preflight: { ...preflight, snapshotUnsupportedReason: null } })).detail).toMatch(/snapshot support/);
  });

  it('has words for every fallback reason and flips strategies', () => {
    const reasons: FallbackReason[] = [
      'no-golden-image',
      'golden-build-failed',
      'golden-not-ready',
      'version-mismatch',
      'golden-expired',
      'snapshot-unsupported',
      'snapshot-path-failed',
    ];
    for (const reason of reasons) expect(FALLBACK_REASON_TEXT[reason]).toBeTruthy();
    expect(otherStrategy('snapshot')).toBe('bootstrap');
    expect(otherStrategy('bootstrap')).toBe('snapshot');
  });
});
