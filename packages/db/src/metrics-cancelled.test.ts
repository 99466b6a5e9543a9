import type { RunOutcome } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type LabDatabase, openDatabase } from './open-database';
import { runRecord, sessionRecord } from './testing/fixtures';

const T0 = 1_700_000_000_000;
let lab: LabDatabase | null = null;
afterEach(() => lab?.close());

/** A run cancelled because its session ended while it provisioned is no provisioning failure. */
describe('cancelled runs in the metrics', () => {
  it('count neither as failures nor against the success rate', async () => {
    lab = openDatabase(':memory:');
    const outcomes: RunOutcome[] = ['succeeded', 'failed', 'cancelled', 'cancelled'];
    for (const [i, outcome] of outcomes.entries()) {
      const sessionId = i.toString(16).padStart(8, '0');
      await lab.store.insertSessionWithinLimit(sessionRecord(sessionId, { status: 'terminated' }), 100);
      const startedAt = T0 + i * 60_000;
      await lab.store.insertRun(
        runRecord(`run-${i}`, sessionId, {
          requestedStrategy: 'bootstrap',
          usedStrategy: 'bootstrap',
          startedAt,
          endedAt: startedAt + 30_000,
          outcome,
        }),
      );
    }
    const bootstrap = lab.metrics.summary().strategies.find((s) => s.strategy === 'bootstrap');
    expect(bootstrap).toMatchObject({ runs: 4, successes: 1, failures: 1 });
    expect(lab.metrics.summary().successRate).toBe(0.5);
    expect(lab.metrics.rates().successRate).toBe(0.5);
  });
});
