import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { benchMetrics } from './metrics-bench';
import { type LabDatabase, openDatabase } from './open-database';
import { seedRunHistory } from './seed-run-history';
import { sessionRecord } from './testing/fixtures';

const NOW = Date.UTC(2025, 0, 31);
const DAY_MS = 86_400_000;

describe('seedRunHistory', () => {
  let lab: LabDatabase;
  beforeEach(() => {
    lab = openDatabase(':memory:');
  });
  afterEach(() => lab.close());

  it('writes plausible runs with their steps and sessions, spread over the period', () => {
    const written = seedRunHistory(lab.db, { count: 5_000, now: NOW });
    expect(written.runs).toBe(5_000);
    expect(written.sessions).toBe(5_000);
    expect(written.steps).toBeGreaterThan(4.5 * 5_000);

    const summary = lab.metrics.summary();
    const [snapshot, bootstrap] = summary.strategies;
    expect(snapshot?.p50Ms).toBeGreaterThan(60_000);
    expect(snapshot?.p50Ms).toBeLessThan(85_000);
    expect(bootstrap?.p50Ms).toBeGreaterThan(420_000);
    expect(bootstrap?.p50Ms).toBeLessThan(530_000);
    expect(summary.improvement).toBeGreaterThan(0.8);

    const fallbacks = (snapshot?.fallbacks ?? 0) + (bootstrap?.fallbacks ?? 0);
    expect(fallbacks / summary.totalRuns).toBeGreaterThan(0.03);
    expect(fallbacks / summary.totalRuns).toBeLessThan(0.07);
    expect(1 - (summary.successRate ?? 0)).toBeGreaterThan(0.01);
    expect(1 - (summary.successRate ?? 0)).toBeLessThan(0.03);

    expect(lab.metrics.summary({ from: NOW - 30 * DAY_MS, to: NOW - 29 * DAY_MS }).totalRuns).toBeGreaterThan(100);
    expect(lab.metrics.summary({ to: NOW - 30 * DAY_MS }).totalRuns).toBe(0);
    expect(lab.metrics.stepBreakdown().map((s) => `${s.strategy}/${s.step}`)).toContain('bootstrap/wait-control-plane-ready');
  });

  it('refuses a database that already has sessions, so it never mixes with real history', async () => {
    await lab.store.insertSessionWithinLimit(sessionRecord('0000000a'), 10);
    expect(() => seedRunHistory(lab.db, { count: 10, now: NOW })).toThrow(/empty \(scratch\) database/);
    expect(lab.metrics.summary().totalRuns).toBe(0);
  });

  it('repeats itself for the same seed', () => {
    seedRunHistory(lab.db, { count: 300, now: NOW, seed: 7 });
    const other = openDatabase(':memory:');
    try {
      seedRunHistory(other.db, { count: 300, now: NOW, seed: 7 });
      expect(other.metrics.summary()).toEqual(lab.metrics.summary());
    } finally {
      other.close();
    }
  });
});

describe('metrics at 100,000 runs', () => {
  it('prints how long each query takes', () => {
    const result = benchMetrics(100_000);
    console.log(JSON.stringify({ metricsBench: result }));
    expect(result.runs).toBe(100_000);
  }, 120_000);
});
