import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate } from './support/api';
import { clearScreenshots, collectPageErrors, DESKTOP, launchChromium, screenshotBothWidths } from './support/browser';
import { type NextServer, startNextServer } from './support/next-server';

/**
 * Issue 10, the session page as a learner sees it while and after provisioning: a progress bar and
 * expected ready time, cluster objects that follow the cluster (not the steps), a tab title that
 * says when the cluster is ready, the extension cap, an admin's golden build halting the session,
 * and an ended session that offers a new one instead of commands. Each `it` continues where the
 * previous one stopped, in one tab.
 */

const ADMIN_TOKEN = 'e2e-session-page-token-0123456789';
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };
/** Simulated ×20, with a kubeadm init of 10 model minutes: about 31 s of the bootstrap's 39 s, time to look within it. */
const TIME_SCALE = '0.05';
const LATENCIES = 'controlPlaneBootstrap=600';
const SESSION_READY_MS = 90_000;

let server: NextServer;
let browser: Browser;
let page: Page;
let errors: string[];
let first: string;
let second: string;

beforeAll(async () => {
  clearScreenshots(/^session-page-/);
  server = await startNextServer({ env: { SIM_TIME_SCALE: TIME_SCALE, SIM_LATENCIES: LATENCIES, ADMIN_TOKEN } });
  const learner = await mutate(server.url, 'users.create', { username: 'lena' }, bearer);
  expect(learner.status).toBe(200);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: DESKTOP });
  errors = collectPageErrors(page);
  await page.goto(`${server.url}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByLabel('Username').fill('lena');
  await page.getByLabel('Password').fill(learner.body.result.data.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${server.url}/`);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const statusLabel = () => page.locator('.page-heading .status-label');
const progressBar = () => page.getByRole('progressbar', { name: 'Provisioning progress' });

async function startSession(button: string): Promise<string> {
  const before = page.url();
  await page.getByRole('button', { name: button }).click();
  await page.waitForURL((url) => /\/sessions\/[0-9a-f]{8}$/.test(url.pathname) && url.href !== before);
  return page.url().split('/').pop()!;
}

/** The running step's label and each object's phase, read in one go so they are of the same moment. */
function pageState(): Promise<{ step: string | null; objects: Record<string, string> }> {
  return page.evaluate(() => ({
    step: document.querySelector('.timeline-step-running .timeline-step-name')?.textContent ?? null,
    objects: Object.fromEntries(
      [...document.querySelectorAll('.object-table tbody tr')].map((row) => {
        const cells = row.querySelectorAll('td');
        return [`${cells[0]?.textContent}/${cells[1]?.textContent}`, cells[2]?.querySelector('.status-label')?.textContent ?? ''];
      }),
    ),
  }));
}

describe('the session page', () => {
  it('shows a progress bar and the expected ready time while provisioning, from the model on a fresh server', async () => {
    first = await startSession('Start a session');
    await progressBar().waitFor({ state: 'visible', timeout: 15_000 });
    await page.getByText(/expected ready at \d\d:\d\d:\d\d/).waitFor({ state: 'visible' });
    await page.getByText('Estimated from the latency model: no session has recorded these steps yet.').waitFor({ state: 'visible' });
    await page.getByText('The cluster is simulated', { exact: false }).first().waitFor({ state: 'visible' });
    await expect.poll(() => page.title(), { timeout: 15_000 }).toBe(`◌ Provisioning — session ${first} · cks-lab`);
    // The bar moves on with the clock between the server's estimates.
    const value = async () => Number(await progressBar().getAttribute('value'));
    const early = await value();
    await expect.poll(value, { timeout: 10_000 }).toBeGreaterThan(early);
  });

  it('shows the cluster objects change within one step, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    const kubeadmInit = 'Install Kubernetes on the control plane (kubeadm init)';
    const vmi = `VMI/cks-control-plane-user-session-${first}`;
    // The control plane's instance is made at the start of kubeadm init and runs ~1 s into it; the step lasts ~31 s.
    await expect.poll(async () => (await pageState()).step, { timeout: 30_000 }).toBe(kubeadmInit);
    await expect.poll(async () => (await pageState()).objects[vmi], { timeout: 10_000 }).toBe('Running');
    const state = await pageState();
    expect(state.step).toBe(kubeadmInit);
    expect(state.objects[vmi]).toBe('Running');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await screenshotBothWidths(page, 'session-page-01-provisioning');
  });

  it('flips the tab title when the cluster is ready, and the bar gives way', async () => {
    await statusLabel().filter({ hasText: 'Running' }).waitFor({ state: 'visible', timeout: SESSION_READY_MS });
    await expect.poll(() => page.title(), { timeout: 5_000 }).toBe(`● Ready — session ${first} · cks-lab`);
    await progressBar().waitFor({ state: 'detached', timeout: 5_000 });
    await screenshotBothWidths(page, 'session-page-02-ready');
  });

  it('disables Extend at its cap and says why', async () => {
    const extend = page.getByRole('button', { name: 'Extend +60 min' });
    // The countdown ticks; its datetime is the expiry itself, which changes only when extended.
    const expiresAt = () =>
      page.locator('dt', { hasText: 'Expires in' }).locator('xpath=following-sibling::dd/time').getAttribute('datetime');
    // One TTL per click, at most three ahead: the second or third click reaches the cap.
    for (let click = 0; click < 3 && (await extend.isEnabled()); click++) {
      const before = await expiresAt();
      await extend.click();
      await expect.poll(expiresAt, { timeout: 10_000 }).not.toBe(before);
      await expect.poll(() => extend.getAttribute('aria-busy'), { timeout: 10_000 }).toBeNull();
    }
    await expect.poll(() => extend.isDisabled(), { timeout: 5_000 }).toBe(true);
    const reason = page.getByText(/Extended to the limit: a session runs at most 180 min ahead\. You can extend again in 1 min\./);
    await reason.waitFor({ state: 'visible' });
    expect(await extend.getAttribute('aria-describedby')).toBe(await reason.getAttribute('id'));
    await screenshotBothWidths(page, 'session-page-03-extend-cap');
  });

  it('an ended session offers a new one, with no terminal and no commands', async () => {
    expect(await page.locator('.command-list').count()).toBe(1);
    await page.getByRole('button', { name: `End session ${first}` }).click();
    await page
      .getByRole('dialog', { name: `End session ${first}?` })
      .getByRole('button', { name: 'End session' })
      .click();
    await statusLabel().filter({ hasText: 'Terminated' }).waitFor({ state: 'visible', timeout: 30_000 });
    await page.getByRole('button', { name: 'Start a new session' }).waitFor({ state: 'visible' });
    expect(await page.locator('.command-list').count()).toBe(0);
    expect(await page.getByText(/virtctl|kubectl get/).count()).toBe(0);
    expect(await page.getByRole('heading', { name: 'Terminal' }).count()).toBe(0);
    await expect.poll(() => page.title()).toBe(`Ended — session ${first} · cks-lab`);
    await screenshotBothWidths(page, 'session-page-04-ended');
  });

  it('starts the new session from there, estimated from the run just recorded', async () => {
    second = await startSession('Start a new session');
    expect(second).not.toBe(first);
    await progressBar().waitFor({ state: 'visible', timeout: 15_000 });
    await page.getByText('Estimated from the steps of recent sessions.').waitFor({ state: 'visible' });
    await statusLabel().filter({ hasText: 'Running' }).waitFor({ state: 'visible', timeout: SESSION_READY_MS });
  });

  it('tells the learner while an admin builds the golden image from their session', async () => {
    const notice = page.getByText('An admin is building the golden image from this session');
    const started = await mutate(server.url, 'snapshots.create', { sessionId: second }, bearer);
    expect(started.status).toBe(200);
    await notice.waitFor({ state: 'visible', timeout: 15_000 });
    await page.getByText('Your VMs are halted and restarted', { exact: false }).waitFor({ state: 'visible' });
    await screenshotBothWidths(page, 'session-page-05-golden-build');
    // Gone once the build has started the VMs again.
    await notice.waitFor({ state: 'detached', timeout: 60_000 });
    await statusLabel().filter({ hasText: 'Running' }).waitFor({ state: 'visible' });
    expect(errors).toEqual([]);
  });
});
