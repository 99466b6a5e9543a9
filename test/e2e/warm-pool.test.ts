import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, data, mutate, query, until } from './support/api';
import { clearScreenshots, collectPageErrors, DESKTOP, launchChromium, screenshotBothWidths } from './support/browser';
import { type NextServer, startNextServer } from './support/next-server';

/**
 * Issue 9: a learner's start claims a ready member of the warm pool: the session is Running at once
 * and marked `warm`; the admin page shows the pool and the metrics page the hit rate.
 */

const ADMIN_TOKEN = 'e2e-pool-admin-token-0123456789ab';
const ADMIN = { username: 'admin', password: 'e2e-admin-password-0123' };
const TIME_SCALE = '0.01';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

let server: NextServer;
let browser: Browser;
let page: Page;
let errors: string[];

beforeAll(async () => {
  clearScreenshots(/^pool-/);
  server = await startNextServer({
    env: {
      SIM_TIME_SCALE: TIME_SCALE,
      ADMIN_TOKEN,
      LAB_ADMIN_USERNAME: ADMIN.username,
      LAB_ADMIN_PASSWORD: ADMIN.password,
      WARM_POOL_SIZE: '1',
    },
  });
  // A golden image, built over the API the CLI uses, so the pool can fill.
  const source = data(await mutate(server.url, 'sessions.create', undefined, bearer));
  await until(
    'source session running',
    async () => data(await query(server.url, 'sessions.get', { id: source.id }, bearer)),
    (s) => s.status === 'running',
  );
  expect(codeOf(await mutate(server.url, 'snapshots.create', { sessionId: source.id }, bearer))).toBe('OK');
  await until(
    'golden image ready',
    async () => data(await query(server.url, 'snapshots.status', undefined, bearer)),
    (g) => g.status === 'ready',
  );
  await until(
    'a warm member ready',
    async () => data(await query(server.url, 'pool.status', undefined, bearer)),
    (p) => p.ready === 1,
  );
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP });
  errors = collectPageErrors(page);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the warm pool in the browser', () => {
  it('a start is Running at once and marked warm', async () => {
    await page.goto(`${server.url}/sign-in`);
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);

    const clickedAt = Date.now();
    await page.getByRole('button', { name: 'Start a session' }).click();
    await page.waitForURL(/\/sessions\/[0-9a-f]{8}$/);
    const id = page.url().split('/').pop()!;
    await page.locator('.page-heading .status-label', { hasText: 'Running' }).waitFor({ state: 'visible', timeout: 5_000 });
    const runningAfterMs = Date.now() - clickedAt;
    expect(runningAfterMs).toBeLessThan(5_000);
    const detail = data(await query(server.url, 'sessions.get', { id }, bearer));
    expect(detail).toMatchObject({ warm: true, runOutcome: 'succeeded' });
    expect(detail.timeToReadyMs).toBeLessThan(2_000);
    await screenshotBothWidths(page, 'pool-01-session-warm');

    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: id });
    await row.locator('.badge-warm', { hasText: 'warm' }).waitFor({ state: 'visible', timeout: 15_000 });
    console.log(JSON.stringify({ warmStartToRunningVisibleMs: runningAfterMs, timeToReadyMs: detail.timeToReadyMs }));
  });

  it('the admin page shows the pool refilling and resizes it', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    const pool = page.getByTestId('warm-pool');
    await pool.waitFor({ state: 'visible', timeout: 15_000 });
    await page.getByTestId('pool-ready').filter({ hasText: '1' }).waitFor({ state: 'visible', timeout: 30_000 });
    await screenshotBothWidths(page, 'pool-02-admin');
    await page.getByLabel('Pool size').fill('2');
    await page.getByRole('button', { name: 'Resize' }).click();
    await page.getByTestId('pool-target').filter({ hasText: '2' }).waitFor({ state: 'visible', timeout: 15_000 });
    await until(
      'pool of 2',
      async () => data(await query(server.url, 'pool.status', undefined, bearer)),
      (p) => p.ready === 2,
    );
  });

  it('the metrics page shows warm beside the strategies and the hit rate', async () => {
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.getByTestId('pool-hit-rate').filter({ hasText: '50.0%' }).waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.tile .badge-warm').first().waitFor({ state: 'visible', timeout: 15_000 });
    // The time-to-ready chart draws the warm claim beside the strategies (its text alternative says so).
    await page.locator('figcaption', { hasText: /warm: 1 runs/ }).waitFor({ state: 'attached', timeout: 15_000 });
    await screenshotBothWidths(page, 'pool-03-metrics');
    const prometheus = await (await fetch(`${server.url}/api/metrics`, { headers: bearer })).text();
    expect(prometheus).toMatch(/cks_lab_time_to_ready_seconds_count\{strategy="warm"\} 1/);
    expect(prometheus).toMatch(/cks_lab_pool_hit_ratio 0\.5/);
    expect(errors).toEqual([]);
  });
});
