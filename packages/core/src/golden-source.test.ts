import { describe, expect, it } from 'vitest';
import { buildHaltingSession } from './golden-source';
import { GOLDEN_PHASES, type GoldenImage } from './types';

const image = (patch: Partial<GoldenImage>): GoldenImage => ({
  version: 2,
  status: 'building',
  phase: 'halt-source',
  sourceSessionId: 'aaaa0001',
  k8sVersion: 'v1.34.2',
  createdAt: 0,
  readyAt: null,
  supersededAt: null,
  certsIssuedAt: 0,
  expiresAt: 1,
  disks: [],
  failureReason: null,
  ...patch,
});

describe('buildHaltingSession', () => {
  it('names the build while it halts, snapshots and restarts the source, and only for that session', () => {
    const halting = GOLDEN_PHASES.filter((phase) => buildHaltingSession([image({ phase })], 'aaaa0001') !== null);
    expect(halting).toEqual(['halt-source', 'snapshot-vms', 'restart-source']);
    expect(buildHaltingSession([image({})], 'bbbb0002')).toBeNull();
    expect(buildHaltingSession([image({ status: 'failed' })], 'aaaa0001')).toBeNull();
  });
});
