import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { benchMetrics } from './metrics-bench';
import { openDatabase, type LabDatabase } from './open-database';
import { seedSynthetic } from './synthetic';
import { runRecord, sessionRecord } from './testing/fixtures';

const NOW = Date.UTC(2025, 0, 31);
const DAY_MS = 86_400_000;

describe('seedSynthetic', () => {
  let lab: LabDatabase;
  beforeEach(() => {
    lab = openDatabase(':memory:');
  });
  afterEach(() => lab.close());

  it('writes plausible runs with their steps and sessions, spread over the period', () => {
    const written = seedSynthetic(lab.db, { count: 5_000, now: NOW });
    expect(written.runs).toBe(5_000);
    expect(written.sessions).toBe(5_000);
    expect(written.steps).toBeGreaterThan(4.5 * 5_000);

    const all = { includeSynthetic: true };
    const summary = lab.metrics.summary(all);
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

    expect(lab.metrics.summary({ ...all, from: NOW - 30 * DAY_MS, to: NOW - 29 * DAY_MS }).totalRuns).toBeGreaterThan(100);
    expect(lab.metrics.summary({ ...all, to: NOW - 30 * DAY_MS }).totalRuns).toBe(0);
    expect(lab.metrics.stepBreakdown(all).map((s) => `${s.strategy}/${s.step}`)).toContain('bootstrap/wait-control-plane-ready');
  });

  it('is excluded from every metric unless asked for', async () => {
    seedSynthetic(lab.db, { count: 1_000, now: NOW });
    await lab.store.insertSessionWithinLimit(sessionRecord('0000000a'), 10);
    await lab.store.insertRun(runRecord('run-real', '0000000a', { startedAt: NOW - DAY_MS, endedAt: NOW - DAY_MS + 90_000, outcome: 'succeeded' }));

    expect(lab.metrics.summary().totalRuns).toBe(1);
    expect(lab.metrics.rates().runs).toBe(1);
    expect(lab.metrics.series()).toHaveLength(1);
    expect(lab.metrics.distribution().reduce((n, bin) => n + bin.count, 0)).toBe(1);
    expect(lab.metrics.stepBreakdown()).toEqual([]);
    expect(lab.metrics.bucketCounts({}, [60_000]).map((b) => b.count)).toEqual([1, 0, 0]);
    expect(lab.metrics.summary({ includeSynthetic: true }).totalRuns).toBe(1_001);
  });

  it('replaces the previous synthetic history and repeats itself for the same seed', () => {
    seedSynthetic(lab.db, { count: 300, now: NOW, seed: 7 });
    const first = lab.metrics.summary({ includeSynthetic: true });
    seedSynthetic(lab.db, { count: 300, now: NOW, seed: 7 });
    expect(lab.metrics.summary({ includeSynthetic: true })).toEqual(first);
    seedSynthetic(lab.db, { count: 100, now: NOW, seed: 8 });
    expect(lab.metrics.summary({ includeSynthetic: true }).totalRuns).toBe(100);
  });
});

describe('metrics at 100,000 runs', () => {
  it('prints how long each query takes', () => {
    const result = benchMetrics(100_000);
    console.log(JSON.stringify({ metricsBench: result }));
    expect(result.runs).toBe(100_000);
  }, 120_000);
});
