import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LabDatabase, openDatabase } from './open-database';
import { seedRunHistory } from './seed-run-history';

const NOW = Date.UTC(2025, 0, 31);
const LAST_WEEK = { from: NOW - 7 * 86_400_000, to: NOW };

/** The query plans (EXPLAIN QUERY PLAN details) of every statement `work` runs on `client`. */
function plansOf(client: Database.Database, work: () => unknown): string[][] {
  const statements: Array<{ source: string; params: unknown[] }> = [];
  const prepare = client.prepare.bind(client);
  client.prepare = ((source: string) => {
    const statement = prepare(source);
    for (const method of ['all', 'get', 'run'] as const) {
      const original = statement[method].bind(statement) as (...params: unknown[]) => unknown;
      (statement as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
        statements.push({ source, params });
        return original(...params);
      };
    }
    return statement;
  }) as typeof client.prepare;
  try {
    work();
  } finally {
    client.prepare = prepare;
  }
  return statements.map(({ source, params }) =>
    (prepare(`EXPLAIN QUERY PLAN ${source}`).all(...params) as Array<{ detail: string }>).map((row) => row.detail),
  );
}

/** Every line of a plan that reads a table: which index, if any, it reads it by. */
const tableReads = (plans: string[][]) => plans.flat().filter((line) => /^(SCAN|SEARCH) (runs|steps|sessions)\b/.test(line));
const METRICS_INDEXES =
  /USING (COVERING )?INDEX (runs_metrics_idx|runs_succeeded_started_at_idx|runs_fallback_reason_idx|runs_used_strategy_outcome_idx|runs_pool_started_at_idx|steps_metrics_idx)\b/;

/**
 * The metrics walk their indexes in index order instead of sorting runs (metrics.ts): these pin the
 * index each query reads, on a database that, like production, was never ANALYZEd.
 */
describe('metrics query plans', () => {
  let lab: LabDatabase;
  beforeAll(() => {
    lab = openDatabase(':memory:');
    seedRunHistory(lab.db, { count: 2_000, now: NOW });
  });
  afterAll(() => lab.close());

  it('read runs and steps only through the metrics indexes', () => {
    const plans = plansOf(lab.db.$client, () => {
      lab.metrics.summary(LAST_WEEK);
      lab.metrics.rates(LAST_WEEK);
      lab.metrics.series(LAST_WEEK, 50);
      lab.metrics.distribution(LAST_WEEK);
      lab.metrics.stepBreakdown(LAST_WEEK);
      lab.metrics.bucketCounts(LAST_WEEK, [60_000, 600_000]);
    });
    expect(plans.length).toBeGreaterThan(6);
    expect(tableReads(plans).filter((line) => !METRICS_INDEXES.test(line))).toEqual([]);
  });

  it('group runs by outcome and strategy and take percentiles in runs_metrics_idx order, without sorting runs', () => {
    const [groups, p50p95] = plansOf(lab.db.$client, () => lab.metrics.summary(LAST_WEEK));
    expect(groups?.slice(0, 2)).toEqual(['CO-ROUTINE (subquery-1)', 'SCAN runs USING COVERING INDEX runs_metrics_idx']);
    expect(p50p95).toEqual([
      'SCAN CONSTANT ROW',
      'SCALAR SUBQUERY 1',
      'SEARCH runs USING COVERING INDEX runs_metrics_idx (outcome=? AND used_strategy=?)',
      'SCALAR SUBQUERY 2',
      'SEARCH runs USING COVERING INDEX runs_metrics_idx (outcome=? AND used_strategy=?)',
    ]);
  });

  it('count histogram and Prometheus bins as duration ranges of runs_metrics_idx', () => {
    for (const work of [() => lab.metrics.distribution(LAST_WEEK), () => lab.metrics.bucketCounts(LAST_WEEK, [60_000, 600_000])]) {
      expect(tableReads(plansOf(lab.db.$client, work))).toContain(
        'SEARCH runs USING COVERING INDEX runs_metrics_idx (outcome=? AND used_strategy=? AND <expr>>? AND <expr><?)',
      );
    }
  });

  it('sum series buckets as start-time ranges of runs_succeeded_started_at_idx', () => {
    const plans = plansOf(lab.db.$client, () => lab.metrics.series(LAST_WEEK, 50));
    expect(tableReads(plans)).toContain(
      'SEARCH runs USING COVERING INDEX runs_succeeded_started_at_idx (used_strategy=? AND started_at>? AND started_at<?)',
    );
  });

  it('count fallback reasons in runs_fallback_reason_idx order', () => {
    const [, reasons] = plansOf(lab.db.$client, () => lab.metrics.rates(LAST_WEEK));
    expect(reasons).toEqual([
      'SEARCH runs USING COVERING INDEX runs_fallback_reason_idx (fallback_reason>?)',
      'USE TEMP B-TREE FOR ORDER BY',
    ]);
  });

  it('average steps over run-start ranges of steps_metrics_idx, without joining runs', () => {
    const plans = plansOf(lab.db.$client, () => lab.metrics.stepBreakdown(LAST_WEEK));
    expect(tableReads(plans)).toContain(
      'SEARCH steps USING INDEX steps_metrics_idx (strategy=? AND name=? AND run_started_at>? AND run_started_at<?)',
    );
    expect(tableReads(plans).filter((line) => line.includes('runs'))).toEqual([]);
  });

  it('list sessions newest first by sessions_created_at_idx, without sorting them', () => {
    const plans = plansOf(lab.db.$client, () => void lab.store.listSessions({ includeEnded: true }));
    expect(plans).toEqual([['SCAN sessions USING INDEX sessions_created_at_idx']]);
  });
});
