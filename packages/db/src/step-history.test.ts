import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LabDatabase, openDatabase } from './open-database';
import { recentStepDurations } from './step-history';
import { runRecord, sessionRecord, stepRecord } from './testing/fixtures';

describe('recentStepDurations', () => {
  let lab: LabDatabase;
  beforeEach(() => {
    lab = openDatabase(':memory:');
  });
  afterEach(() => lab.close());

  it('gives each step its latest succeeded durations per strategy, and nothing of failed or unfinished steps', async () => {
    const { store } = lab;
    for (let i = 0; i < 4; i++) {
      const sessionId = `0000000${i}`;
      await store.insertSessionWithinLimit(sessionRecord(sessionId), 10);
      await store.insertRun(runRecord(`run-${i}`, sessionId, { startedAt: i * 1000 }));
      const startedAt = i * 1000;
      await store.startStep(stepRecord(`run-${i}`, 0, { strategy: 'snapshot', name: 'wait-disks-cloned', startedAt }));
      await store.finishStep(`run-${i}`, 0, { endedAt: startedAt + 100 + i, outcome: 'succeeded', detail: null });
      await store.startStep(stepRecord(`run-${i}`, 1, { strategy: 'bootstrap', name: 'wait-control-plane-ready', startedAt }));
      await store.finishStep(`run-${i}`, 1, { endedAt: startedAt + 900, outcome: i === 0 ? 'succeeded' : 'failed', detail: null });
      await store.startStep(stepRecord(`run-${i}`, 2, { strategy: 'bootstrap', name: 'wait-cluster-ready', startedAt }));
    }
    const plan = [
      { strategy: 'snapshot' as const, name: 'wait-disks-cloned' as const },
      { strategy: 'bootstrap' as const, name: 'wait-control-plane-ready' as const },
      { strategy: 'bootstrap' as const, name: 'wait-cluster-ready' as const },
    ];
    expect(recentStepDurations(lab.db, plan, 2)).toEqual({
      // The two latest runs only, newest first.
      snapshot: { 'wait-disks-cloned': [103, 102] },
      bootstrap: { 'wait-control-plane-ready': [900] },
    });
  });

  it('walks the metrics index newest first for each step, with no sort of the history', () => {
    const plan = lab.db.all<{ detail: string }>(sql`EXPLAIN QUERY PLAN
      SELECT ended_at - started_at FROM steps
      WHERE outcome = 'succeeded' AND strategy = 'snapshot' AND name = 'wait-disks-cloned'
      ORDER BY run_started_at DESC LIMIT 25`);
    expect(plan.map((row) => row.detail)).toEqual(['SEARCH steps USING INDEX steps_metrics_idx (strategy=? AND name=?)']);
  });
});
