import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GoldenImage, Run, Session, Step } from '@cks-lab/core';

/** Records for tests: valid defaults, overridden per test. */

export function sessionRecord(id: string, overrides: Partial<Session> = {}): Session {
  return {
    id,
    namespace: `user-session-${id}`,
    status: 'pending',
    createdAt: 1_000,
    updatedAt: 1_000,
    expiresAt: 3_601_000,
    strategy: 'snapshot',
    failureReason: null,
    runId: null,
    ownerId: null,
    pool: false,
    ...overrides,
  };
}

export function runRecord(id: string, sessionId: string, overrides: Partial<Run> = {}): Run {
  return {
    id,
    sessionId,
    requestedStrategy: 'snapshot',
    usedStrategy: 'snapshot',
    fallbackReason: null,
    fallbackDetail: null,
    goldenVersion: null,
    startedAt: 1_000,
    endedAt: null,
    outcome: 'running',
    failureReason: null,
    pool: false,
    ...overrides,
  };
}

export function stepRecord(runId: string, seq: number, overrides: Partial<Step> = {}): Step {
  return {
    runId,
    seq,
    strategy: 'snapshot',
    name: 'prepare-namespace',
    startedAt: 1_000,
    endedAt: null,
    outcome: 'running',
    detail: null,
    ...overrides,
  };
}

export function goldenRecord(version: number, overrides: Partial<GoldenImage> = {}): GoldenImage {
  return {
    version,
    status: 'building',
    phase: 'halt-source',
    sourceSessionId: '76c3ac1b',
    k8sVersion: 'v1.35.4',
    createdAt: 1_000,
    readyAt: null,
    supersededAt: null,
    certsIssuedAt: 1_000,
    expiresAt: 1_000 + 30 * 24 * 3_600_000,
    disks: [
      { role: 'control-plane', volumeSnapshot: null, pvc: `cks-control-plane-base-snapshot-v${version}`, sizeBytes: null },
      { role: 'worker', volumeSnapshot: null, pvc: `cks-worker-base-snapshot-v${version}`, sizeBytes: null },
    ],
    failureReason: null,
    ...overrides,
  };
}

/** A fresh directory for database files, removed by the returned function. */
export function tempDir(): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'cks-lab-db-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
