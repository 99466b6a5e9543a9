import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearScreenshots, collectPageErrors, DESKTOP, launchChromium, screenshotBothWidths } from './support/browser';
import { type NextServer, startNextServer } from './support/next-server';

/**
 * The new-user flow of issue 3, in one browser tab on a fresh server: the first admin (from the
 * environment) signs in, a first session comes up by bootstrap, the admin builds the golden image
 * from it, a second session comes up by snapshot, and the metrics page compares the two. Each `it`
 * continues where the previous one stopped.
 */

const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
const ADMIN = { username: 'admin', password: 'e2e-admin-password-0123' };
/** Simulated time ×100: a bootstrap takes about 5 s, a snapshot well under 1 s. */
const TIME_SCALE = '0.01';
const SESSION_READY_MS = 60_000;
const GOLDEN_READY_MS = 90_000;

let server: NextServer;
let browser: Browser;
let page: Page;
let errors: string[];
const sessions: { bootstrap?: string; snapshot?: string } = {};

beforeAll(async () => {
  clearScreenshots(/^\d\d-/);
  server = await startNextServer({
    env: { SIM_TIME_SCALE: TIME_SCALE, ADMIN_TOKEN, LAB_ADMIN_USERNAME: ADMIN.username, LAB_ADMIN_PASSWORD: ADMIN.password },
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP });
  errors = collectPageErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a new user, start to finish', () => {
  it('is asked to sign in, signs in, and sees the simulated-cluster banner and an empty session list', async () => {
    await page.goto(`${server.url}/`);
    await page.waitForURL(/\/sign-in\?next=%2F$/);
    await expectVisible(page.getByRole('heading', { name: 'Sign in' }));
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expectVisible(page.getByRole('alert').getByText(/invalid username or password/i));
    await page.getByLabel('Password').fill(ADMIN.password);
    await screenshotBothWidths(page, '00-sign-in');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/`);
    await expectVisible(page.locator('.account-name', { hasText: ADMIN.username }));

    await expectVisible(
      page.getByRole('note', { name: 'Simulated cluster' }).getByText('Simulated cluster — no VMs run; time ×100 faster; faults: none'),
    );
    await expectVisible(page.getByText('No active sessions'));
    await screenshotBothWidths(page, '01-sessions-empty');

    await page.getByRole('link', { name: 'Metrics' }).click();
    await expectVisible(page.getByText('No provisioning runs in the last week'));
    await screenshotBothWidths(page, '02-metrics-empty');
    await page.getByRole('link', { name: 'Sessions' }).click();
  });

  it('starts a session and watches it reach Running by bootstrap', async () => {
    await page.getByRole('button', { name: 'Start a session' }).click();
    await page.waitForURL(/\/sessions\/[0-9a-f]{8}$/);
    sessions.bootstrap = page.url().split('/').pop();

    // Live steps: the bootstrap timeline appears and its steps get done, pushed over SSE.
    await expectVisible(page.getByRole('heading', { name: 'Bootstrap: build with kubeadm' }));
    await expectVisible(page.getByText('Install Kubernetes on the control plane (kubeadm init)', { exact: true }));
    await expectVisible(page.getByText('Built from scratch (bootstrap): no golden image exists yet'));
    await screenshotBothWidths(page, '03-session-provisioning');

    await expectVisible(page.locator('.page-heading .status-label', { hasText: 'Running' }), SESSION_READY_MS);
    await expectVisible(page.getByText(/Your cluster is ready \(took .+ by bootstrap\)/));
    expect(await page.locator('.timeline-step-succeeded').count()).toBe(5);
    await expectVisible(
      page.getByText(`virtctl console cks-control-plane-user-session-${sessions.bootstrap} -n user-session-${sessions.bootstrap}`),
    );
    await expectVisible(page.getByRole('cell', { name: `cks-worker-node-user-session-${sessions.bootstrap}`, exact: true }).first());
    await screenshotBothWidths(page, '04-session-running-bootstrap');
  });

  it('opens the admin page and builds the golden image from that session', async () => {
    await page.getByRole('link', { name: 'Admin' }).click();
    await expectVisible(page.getByText('No golden image yet'));
    await expectVisible(page.getByText(/New sessions are built from scratch with kubeadm .* because no golden image exists yet/));
    await screenshotBothWidths(page, '06-admin-no-golden');

    await page.getByRole('radio', { name: new RegExp(sessions.bootstrap!) }).check();
    await page.getByRole('button', { name: 'Create golden image' }).click();
    const dialog = page.getByRole('dialog', { name: `Create the golden image from session ${sessions.bootstrap}?` });
    await expectVisible(dialog);
    await screenshotBothWidths(page, '07-admin-confirm-create');
    await dialog.getByRole('button', { name: 'Create' }).click();
    // The answer to "create" is the building status, so the build's phases show at once.
    await expectVisible(page.getByRole('heading', { name: 'Build progress' }));
    await screenshotBothWidths(page, '08-admin-building');

    const goldenStatus = page
      .locator('section', { has: page.getByRole('heading', { name: 'Golden image', exact: true }) })
      .locator('.card-header .status-label');
    await expect.poll(() => goldenStatus.textContent(), { timeout: GOLDEN_READY_MS }).toBe('Ready');
    await expectVisible(page.getByText('New sessions clone their disks from the active golden image'));
    await expectVisible(page.getByRole('link', { name: sessions.bootstrap! }));
    await screenshotBothWidths(page, '09-admin-golden-ready');
  });

  it('starts a second session, from the keyboard, that comes up by snapshot', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    const start = page.getByRole('button', { name: 'Start a session' });
    await expect.poll(() => start.isEnabled()).toBe(true);
    await start.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => /\/sessions\/[0-9a-f]{8}$/.test(url.pathname) && !url.pathname.endsWith(sessions.bootstrap!));
    sessions.snapshot = page.url().split('/').pop();

    await expectVisible(page.locator('.page-heading .status-label', { hasText: 'Running' }), SESSION_READY_MS);
    await expectVisible(page.getByText(/Your cluster is ready \(took .+ by snapshot\)/));
    await expectVisible(page.getByRole('heading', { name: 'Snapshot: clone from the golden image' }));
    await screenshotBothWidths(page, '10-session-running-snapshot');
  });

  it('lists both sessions, and ending one asks first (Escape cancels)', async () => {
    await page.getByRole('link', { name: '← All sessions' }).click();
    const rows = page.locator('.session-table tbody tr');
    await expect.poll(() => page.locator('.session-table .status-label', { hasText: 'Running' }).count()).toBe(2);
    expect(await rows.count()).toBe(2);
    await expectVisible(page.locator('.session-table').getByText('snapshot', { exact: true }));
    await expectVisible(page.locator('.session-table').getByText('bootstrap', { exact: true }));
    await screenshotBothWidths(page, '11-sessions-two-running');

    await page.getByRole('button', { name: `End session ${sessions.snapshot}` }).click();
    const dialog = page.getByRole('dialog', { name: `End session ${sessions.snapshot}?` });
    await expectVisible(dialog);
    // Focus starts on the harmless choice and Tab stays inside the dialog.
    const focused = () => page.evaluate(() => document.activeElement?.textContent);
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('End session');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await rows.count()).toBe(2);
  });

  it('shows both strategies on the metrics page', async () => {
    await page.getByRole('link', { name: 'Metrics' }).click();
    await page.locator('.metrics[data-ready="true"]').waitFor();
    const legend = page.locator('.recharts-legend-item-text');
    // Charts size themselves after mount, so their legends follow the data by a frame or two.
    await expect
      .poll(async () => (await legend.allTextContents()).filter((t) => t === 'snapshot' || t === 'bootstrap').sort(), { timeout: 10_000 })
      .toEqual(['bootstrap', 'bootstrap', 'snapshot', 'snapshot']);
    // Both p50 tiles have a number, so the improvement can be computed.
    await expectVisible(page.getByText('faster', { exact: false }).first());
    expect(await page.locator('.tile-value-muted').count()).toBe(0);
    await screenshotBothWidths(page, '12-metrics');
  });

  it('logged no console errors and no uncaught exceptions', () => {
    // The wrong password on purpose at the start is the one error the browser reports.
    const expected = /\/sign-in.*Failed to load resource: the server responded with a status of 401 \(Unauthorized\)/i;
    expect(errors.filter((e) => !expected.test(e))).toEqual([]);
  });
});

async function expectVisible(locator: ReturnType<Page['locator']>, timeout = 15_000): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout });
}
