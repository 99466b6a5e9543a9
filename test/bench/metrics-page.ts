/**
 * Metrics page benchmark (issue 3; not a timed test). With 100,000 generated runs in a scratch database,
 * how long until the metrics page has drawn its charts in Chromium, and how long each metrics API
 * call takes on the server. Needs the production build (`npm run build`); prints JSON.
 *
 *   npx tsx test/bench/metrics-page.ts        (BENCH_RUNS=… to change the size)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, seedRunHistory, timeMetricsQueries } from '@cks-lab/db';
import type { Page } from 'playwright-core';
import { launchChromium } from '../e2e/support/browser';
import { startNextServer } from '../e2e/support/next-server';

const RUNS = Number(process.env.BENCH_RUNS ?? 100_000);
const PAGE_LOADS = 5;
const API_REPEATS = 5;
const BUDGET_MS = 1_000;
const METRICS_PROCEDURES = ['summary', 'series', 'distribution', 'steps', 'rates'] as const;
/** "all" covers every seeded run (30 days). */
const PAGE_PATH = '/metrics?range=all';
const API_INPUT = {};
const ADMIN_TOKEN = 'bench-admin-token-0123456789';
/** The page is for signed-in accounts: every fresh browser context carries the bench account's cookie. */
const ACCOUNT = { username: 'bench', password: 'bench-password-0123456789' };

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cks-lab-bench-'));
  const databaseUrl = join(dataDir, 'cks-lab.db');
  try {
    const database = openDatabase(databaseUrl);
    const seedStarted = performance.now();
    const seeded = seedRunHistory(database.db, { count: RUNS });
    const seedMs = performance.now() - seedStarted;
    const sqlMs = timeMetricsQueries(database.metrics, API_INPUT);
    database.close();

    const server = await startNextServer({
      dataDir,
      env: { DATABASE_URL: databaseUrl, ADMIN_TOKEN, LAB_ADMIN_USERNAME: ACCOUNT.username, LAB_ADMIN_PASSWORD: ACCOUNT.password },
    });
    try {
      const api = await timeApiCalls(server.url);
      const page = await timePageLoads(server.url);
      const result = {
        runs: seeded.runs,
        steps: seeded.steps,
        seedMs: round(seedMs),
        budgetMs: BUDGET_MS,
        page: { path: PAGE_PATH, ...page },
        apiServerMs: api,
        sqlMs,
      };
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Each metrics procedure on its own (the page batches them into one request), timed round trip
 * on loopback, which is the server's time; the first call of each is the cold one.
 */
async function timeApiCalls(url: string): Promise<Record<string, { coldMs: number; medianMs: number }>> {
  const input = encodeURIComponent(JSON.stringify(API_INPUT));
  const timings: Record<string, { coldMs: number; medianMs: number }> = {};
  for (const procedure of METRICS_PROCEDURES) {
    const samples: number[] = [];
    for (let i = 0; i < API_REPEATS; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/api/trpc/metrics.${procedure}?input=${input}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`metrics.${procedure} answered ${response.status}`);
      samples.push(performance.now() - started);
    }
    timings[procedure] = { coldMs: round(samples[0]!), medianMs: round(median(samples)) };
  }
  return timings;
}

/**
 * Page loads from navigation start to the moment the dashboard says `data-ready` and the charts
 * have drawn their marks: "cold" in a fresh browser context (empty HTTP and code caches, a first
 * visit), "warm" as a reload in the same context (a returning admin).
 */
async function timePageLoads(url: string) {
  const browser = await launchChromium();
  const cold: PageLoad[] = [];
  const warm: PageLoad[] = [];
  try {
    // One sign-in (the server allows few per minute), its cookie given to every fresh context.
    const first = await browser.newContext();
    const response = await first.request.post(`${url}/api/auth/sign-in/username`, { data: ACCOUNT, headers: { origin: url } });
    if (!response.ok()) throw new Error(`sign-in answered ${response.status()}`);
    const signedIn = await first.storageState();
    await first.close();
    for (let i = 0; i < PAGE_LOADS; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, storageState: signedIn });
      const page = await context.newPage();
      await page.goto(`${url}${PAGE_PATH}`, { waitUntil: 'commit' });
      cold.push(await measureLoad(page));
      await page.reload({ waitUntil: 'commit' });
      warm.push(await measureLoad(page));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { cold: summarize(cold), warm: summarize(warm) };
}

async function measureLoad(page: Page): Promise<PageLoad> {
  const ready = await page.waitForFunction(
    () => {
      const root = document.querySelector('.metrics[data-ready="true"]');
      const drawn =
        root &&
        root.querySelectorAll('.recharts-wrapper').length >= 3 &&
        root.querySelector('.recharts-scatter-symbol, .recharts-line-curve') &&
        root.querySelector('.recharts-bar-rectangle');
      return drawn ? window.performance.now() : false;
    },
    undefined,
    { polling: 'raf', timeout: 30_000 },
  );
  const readyMs = (await ready.jsonValue()) as number;
  // Where the time went: the HTML, then the one batched API request carrying the metrics calls.
  const phases = await page.evaluate(() => {
    // `window.` because this runs in the page, not in Node (whose `performance` is imported above).
    const navigation = window.performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const api = window.performance.getEntriesByType('resource').find((e) => e.name.includes('metrics.summary')) as
      | PerformanceResourceTiming
      | undefined;
    return {
      htmlMs: navigation?.responseEnd ?? null,
      domContentLoadedMs: navigation?.domContentLoadedEventEnd ?? null,
      apiStartMs: api?.startTime ?? null,
      apiEndMs: api?.responseEnd ?? null,
    };
  });
  return { readyMs: round(readyMs), ...roundAll(phases) };
}

function summarize(loads: PageLoad[]) {
  const ready = loads.map((load) => load.readyMs);
  return { loads, medianMs: round(median(ready)), maxMs: round(Math.max(...ready)), withinBudget: Math.max(...ready) < BUDGET_MS };
}

interface PageLoad {
  readyMs: number;
  htmlMs: number | null;
  domContentLoadedMs: number | null;
  apiStartMs: number | null;
  apiEndMs: number | null;
}

function roundAll<T extends Record<string, number | null>>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === null ? null : round(value)])) as T;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
