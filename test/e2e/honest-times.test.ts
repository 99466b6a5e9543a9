import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, data, mutate, query, until } from './support/api';
import { clearScreenshots, collectPageErrors, DESKTOP, launchChromium, screenshotBothWidths } from './support/browser';
import { type NextServer, startNextServer, WEB_DIR } from './support/next-server';

/**
 * Issue 10: on the simulator every duration shown is the modelled one (measured ÷ SIM_TIME_SCALE),
 * said once per page and output — the session page, the metrics page, Prometheus and the CLI's
 * README form (`npm run -s lab -- … --json`, which must parse) — and the admin page names a learner's
 * source session and, after the golden image is deleted, says it was deleted.
 */

const ADMIN_TOKEN = 'e2e-times-admin-token-0123456789ab';
const ADMIN = { username: 'admin', password: 'e2e-admin-password-0123' };
/** ×100: a bootstrap the model puts at about 8 minutes is ready in about 5 s. */
const TIME_SCALE = 0.01;
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MODELLED_NOTE = /^Times are modelled: what the simulator's latency model says a real cluster would take/;

let server: NextServer;
let browser: Browser;
let page: Page;
let errors: string[];
let session: { id: string; timeToReadyMs: number; startedAt: number; endedAt: number };

const runningSession = async (headers: Record<string, string>) => {
  const created = data(await mutate(server.url, 'sessions.create', undefined, headers));
  return until(
    'session running',
    async () => data(await query(server.url, 'sessions.get', { id: created.id }, bearer)),
    (s) => s.status === 'running',
  );
};

beforeAll(async () => {
  clearScreenshots(/^times-/);
  server = await startNextServer({
    env: { SIM_TIME_SCALE: String(TIME_SCALE), ADMIN_TOKEN, LAB_ADMIN_USERNAME: ADMIN.username, LAB_ADMIN_PASSWORD: ADMIN.password },
  });
  // A learner's session by bootstrap (there is no golden image), started for her as the CLI's --as does.
  expect(codeOf(await mutate(server.url, 'users.create', { username: 'alice', role: 'learner' }, bearer))).toBe('OK');
  session = await runningSession({ ...bearer, 'x-lab-act-as': 'alice' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP });
  errors = collectPageErrors(page);
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('modelled times on the simulator', () => {
  it('the API gives the modelled time to ready: the measured one ÷ the time scale', () => {
    const measured = session.endedAt - session.startedAt;
    // Measured well under a minute, modelled several minutes: the kubeadm path of the model.
    expect(measured).toBeLessThan(60_000);
    expect(session.timeToReadyMs).toBe(Math.round(measured / TIME_SCALE));
    expect(session.timeToReadyMs).toBeGreaterThan(4 * 60_000);
  });

  it('the session page shows the modelled durations and says once that they are modelled', async () => {
    await page.goto(`${server.url}/sessions/${session.id}`);
    await expect.poll(() => page.locator('.headline').textContent()).toMatch(/Your cluster is ready \(took \d+m \d\ds by bootstrap\)/);
    const steps = await page.locator('.timeline-step-time').allTextContents();
    expect(steps.some((time) => /^\d+m \d\ds$/.test(time))).toBe(true);
    await expect.poll(() => page.getByTestId('modelled-times').count()).toBe(1);
    expect(await page.getByTestId('modelled-times').textContent()).toMatch(MODELLED_NOTE);
    await screenshotBothWidths(page, 'times-session-modelled');
  });

  it('the metrics page and Prometheus count modelled seconds, and the page says so once', async () => {
    await page.goto(`${server.url}/metrics`);
    const bootstrap = page.locator('.tile', { hasText: 'bootstrap' }).first();
    await expect.poll(() => bootstrap.locator('.tile-value').first().textContent()).toMatch(/^\d+m \d\ds$/);
    expect(await page.getByTestId('modelled-times').count()).toBe(1);
    expect(await page.getByTestId('modelled-times').textContent()).toMatch(MODELLED_NOTE);
    await screenshotBothWidths(page, 'times-metrics-modelled');

    const scrape = await (await fetch(`${server.url}/api/metrics`)).text();
    const sum = Number(scrape.match(/^cks_lab_time_to_ready_seconds_sum\{strategy="bootstrap"\} (\S+)$/m)?.[1]);
    expect(sum).toBeCloseTo(session.timeToReadyMs / 1000, 0);
    // A bootstrap of about 8 modelled minutes is above 300 s and at most 900 s, whatever it took measured.
    expect(scrape).toMatch(/^cks_lab_time_to_ready_seconds_bucket\{strategy="bootstrap",le="300"\} 0$/m);
    expect(scrape).toMatch(/^cks_lab_time_to_ready_seconds_bucket\{strategy="bootstrap",le="900"\} 1$/m);
    expect(scrape).toMatch(/^# HELP cks_lab_time_to_ready_seconds .*modelled/m);
  });

  it("the README's CLI form with --json prints one JSON document: modelled durations, ISO instants", async () => {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '-s', 'lab', '--', 'sessions', 'get', session.id, '--json'], {
      cwd: `${WEB_DIR}/../..`,
      env: { ...process.env, LAB_URL: server.url, LAB_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect(stderr).toBe('');
    const document = JSON.parse(stdout);
    expect(document).toMatchObject({
      id: session.id,
      timeToReadyMs: session.timeToReadyMs,
      timing: { modelled: true, rate: 1 / TIME_SCALE },
    });
    expect(document.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(document.steps[0].startedAt).toMatch(/Z$/);
  });
});

describe('the admin page', () => {
  it("names the learner whose session would be the golden image's source, and how long it has run", async () => {
    await page.goto(`${server.url}/admin`);
    const choice = page.locator('.choice', { hasText: session.id });
    await expect.poll(() => choice.textContent()).toMatch(/learner alice, bootstrap, running for \d/);
  });

  it('after the golden image is deleted says it was deleted, not that none was ever built', async () => {
    expect(codeOf(await mutate(server.url, 'snapshots.create', { sessionId: session.id }, bearer))).toBe('OK');
    await until(
      'golden image ready',
      async () => data(await query(server.url, 'snapshots.status', undefined, bearer)),
      (g) => g.status === 'ready',
    );
    await page.reload();
    await page.getByRole('button', { name: 'Delete golden image' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete golden image v1?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByText('Golden image v1 was deleted', { exact: true }).count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => page.getByText('golden image v1 was deleted', { exact: true }).count()).toBe(1);
    expect(await page.getByText(/no golden image has been built yet/i).count()).toBe(0);
    expect(await page.getByText('No golden image yet').count()).toBe(0);
    await screenshotBothWidths(page, 'times-admin-golden-deleted');
    expect(errors).toEqual([]);
  });
});
