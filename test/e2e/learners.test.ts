import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearScreenshots, collectPageErrors, DESKTOP, launchChromium, screenshotBothWidths } from './support/browser';
import { openConsole, terminalText, typeInTerminal } from './support/console';
import { type NextServer, startNextServer } from './support/next-server';

/**
 * Issue 8: two learners, each in a browser context of their own, and an admin in a third. The
 * admin makes the learners' accounts on the admin page; each learner starts a session and can
 * neither see, open nor end the other's; the admin sees both with their owners; signing out ends
 * access. The session page's terminal is a root shell on the VMs' serial consoles, relayed by the
 * server (server/console-relay.ts) to the session's owner only; on the simulator the console is
 * played by it, over the same relay and KubeVirt console protocol.
 */

const ADMIN = { username: 'root', password: 'learners-admin-password-0123' };
const TIME_SCALE = '0.01';
const SESSION_READY_MS = 60_000;

interface Person {
  name: string;
  context: BrowserContext;
  page: Page;
  errors: string[];
  password?: string;
  sessionId?: string;
}

let server: NextServer;
let browser: Browser;
const people: Record<'admin' | 'alice' | 'bob', Person> = {} as never;

async function person(name: string): Promise<Person> {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  return { name, context, page, errors: collectPageErrors(page) };
}

async function signIn(who: Person, username: string, password: string): Promise<void> {
  await who.page.goto(`${server.url}/`);
  await who.page.waitForURL(/\/sign-in/);
  await who.page.getByLabel('Username').fill(username);
  await who.page.getByLabel('Password').fill(password);
  await who.page.getByRole('button', { name: 'Sign in' }).click();
  await who.page.waitForURL(`${server.url}/`);
}

/** A tRPC call from inside the page, with the page's own cookie, as a curious learner would try it. */
async function callFromPage(page: Page, path: string, input: unknown): Promise<{ status: number; code: string | undefined }> {
  return page.evaluate(
    async ([p, i]) => {
      const response = await fetch(`/api/trpc/${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(i),
      });
      const body = (await response.json()) as { error?: { data?: { code?: string } } };
      return { status: response.status, code: body.error?.data?.code };
    },
    [path, input] as const,
  );
}

beforeAll(async () => {
  clearScreenshots(/^learners-/);
  server = await startNextServer({
    env: { SIM_TIME_SCALE: TIME_SCALE, LAB_ADMIN_USERNAME: ADMIN.username, LAB_ADMIN_PASSWORD: ADMIN.password },
  });
  browser = await launchChromium();
  people.admin = await person('root');
  people.alice = await person('alice');
  people.bob = await person('bob');
});

async function cookieOf(who: Person): Promise<string> {
  return (await who.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('learners and their own sessions', () => {
  it('an admin makes two learner accounts on the admin page, each with a password shown once', async () => {
    const { page } = people.admin;
    await signIn(people.admin, ADMIN.username, ADMIN.password);
    await page.getByRole('link', { name: 'Admin' }).click();
    const accounts = page.locator('section', { has: page.getByRole('heading', { name: 'Accounts' }) });
    for (const learner of [people.alice, people.bob]) {
      await accounts.getByLabel('Username').fill(learner.name);
      await accounts.getByRole('button', { name: 'Create account' }).click();
      const issued = accounts.getByTestId('issued-password');
      await expect.poll(() => accounts.locator('.issued-password').textContent()).toContain(`Password for ${learner.name}`);
      learner.password = (await issued.textContent())!.trim();
      expect(learner.password).toMatch(/^[\w-]{20}$/);
      await expectVisible(accounts.getByRole('rowheader', { name: learner.name }));
    }
    await screenshotBothWidths(page, 'learners-01-admin-accounts');
  });

  it('each learner signs in in their own browser and starts a session', async () => {
    for (const learner of [people.alice, people.bob]) {
      await signIn(learner, learner.name, learner.password!);
      await expectVisible(learner.page.getByText('No active sessions'));
      // Learners have no admin page in their menu.
      expect(await learner.page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
      await learner.page.getByRole('button', { name: 'Start a session' }).click();
      await learner.page.waitForURL(/\/sessions\/[0-9a-f]{8}$/);
      learner.sessionId = learner.page.url().split('/').pop();
    }
    expect(people.alice.sessionId).not.toBe(people.bob.sessionId);
    for (const learner of [people.alice, people.bob]) {
      await expectVisible(learner.page.locator('.page-heading .status-label', { hasText: 'Running' }), SESSION_READY_MS);
    }
    await screenshotBothWidths(people.alice.page, 'learners-02-alice-session');
  });

  it('neither learner sees, opens or ends the other’s session', async () => {
    for (const [me, other] of [
      [people.alice, people.bob],
      [people.bob, people.alice],
    ] as const) {
      await me.page.goto(`${server.url}/`);
      const rows = me.page.locator('.session-table tbody tr');
      await expect.poll(() => rows.count()).toBe(1);
      await expectVisible(me.page.getByRole('link', { name: me.sessionId!, exact: true }));
      expect(await me.page.getByRole('link', { name: other.sessionId!, exact: true }).count()).toBe(0);
      // No owner column for learners: every row is theirs.
      expect(await me.page.getByRole('columnheader', { name: 'Owner' }).count()).toBe(0);

      await me.page.goto(`${server.url}/sessions/${other.sessionId}`);
      await expectVisible(me.page.getByText(`session ${other.sessionId} does not exist`));
      expect(await me.page.getByRole('button', { name: /End session/ }).count()).toBe(0);

      for (const path of ['sessions.delete', 'sessions.extend']) {
        expect(await callFromPage(me.page, path, { id: other.sessionId })).toEqual({ status: 404, code: 'NOT_FOUND' });
      }
    }
    await screenshotBothWidths(people.alice.page, 'learners-03-not-found');
    // Bob's session is untouched by Alice's attempts.
    await people.bob.page.goto(`${server.url}/sessions/${people.bob.sessionId}`);
    await expectVisible(people.bob.page.locator('.page-heading .status-label', { hasText: 'Running' }));
  });

  it('a learner with a running session who presses start is taken to it', async () => {
    const { page } = people.alice;
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'Start a session' }).click();
    await page.waitForURL(`${server.url}/sessions/${people.alice.sessionId}`);
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.locator('.session-table tbody tr').count()).toBe(1);
  });

  it('the admin sees both sessions with their owners', async () => {
    const { page } = people.admin;
    await page.getByRole('link', { name: 'Sessions' }).click();
    await expectVisible(page.getByRole('columnheader', { name: 'Owner' }));
    for (const learner of [people.alice, people.bob]) {
      const row = page.locator('.session-table tbody tr', { has: page.getByRole('link', { name: learner.sessionId!, exact: true }) });
      await expectVisible(row.locator('.session-owner', { hasText: learner.name }));
    }
    await screenshotBothWidths(page, 'learners-04-admin-sessions');
    const accounts = (await page.evaluate(async () => (await fetch('/api/trpc/users.list')).json())) as {
      result: { data: Array<{ username: string; activeSessions: number }> };
    };
    expect(accounts.result.data.map((a) => [a.username, a.activeSessions])).toEqual([
      ['root', 0],
      ['alice', 1],
      ['bob', 1],
    ]);
  });

  it('the terminal on controlplane answers hostname and kubectl get nodes (both nodes); node01 is one tab away', async () => {
    const { page, sessionId } = people.alice;
    await page.goto(`${server.url}/sessions/${sessionId}`);
    const screen = page.locator('.terminal-screen[data-host="controlplane"]');
    await expectVisible(page.locator('.terminal-screen[data-host="controlplane"][data-state="connected"]'));
    await expect.poll(() => terminalText(screen), { timeout: 15_000 }).toMatch(/root@controlplane:~# *$/m);
    expect(await terminalText(screen)).toMatch(/this console is simulated, no VM runs/);

    await typeInTerminal(page, screen, 'hostname');
    await expect.poll(() => terminalText(screen)).toMatch(/# hostname\s*\ncontrolplane\s*\n/);
    await typeInTerminal(page, screen, 'kubectl get nodes');
    await expect
      .poll(() => terminalText(screen))
      .toMatch(/NAME +STATUS +ROLES +AGE +VERSION\s*\ncontrolplane +Ready +control-plane +\S+ +v\S+\s*\nnode01 +Ready +<none> +\S+ +v\S+/);
    await screenshotBothWidths(page, 'learners-05-terminal');

    await page.getByRole('tab', { name: 'node01' }).click();
    const worker = page.locator('.terminal-screen[data-host="node01"]');
    await expect.poll(() => terminalText(worker), { timeout: 15_000 }).toMatch(/root@node01:~# *$/m);
    await typeInTerminal(page, worker, 'hostname');
    await expect.poll(() => terminalText(worker)).toMatch(/# hostname\s*\nnode01\s*\n/);
    await page.getByRole('tab', { name: 'controlplane' }).click();
    // Switching back re-attaches: the server replays the console's screen.
    await expect.poll(() => terminalText(screen), { timeout: 15_000 }).toMatch(/controlplane +Ready/);
  });

  it("a reload keeps the terminal's screen", async () => {
    const { page } = people.alice;
    const screen = page.locator('.terminal-screen[data-host="controlplane"]');
    await typeInTerminal(page, screen, 'echo before-the-reload-42');
    await expect.poll(() => terminalText(screen)).toMatch(/\nbefore-the-reload-42\s*\n/);
    await page.reload();
    await expectVisible(page.locator('.terminal-screen[data-host="controlplane"][data-state="connected"]'));
    await expect.poll(() => terminalText(screen), { timeout: 15_000 }).toMatch(/\nbefore-the-reload-42\s*\nroot@controlplane/);
    // And it is still a live shell.
    await typeInTerminal(page, screen, 'whoami');
    await expect.poll(() => terminalText(screen)).toMatch(/# whoami\s*\nroot\s*\n/);
  });

  it("another learner cannot open the terminal: the relay refuses her session's console to Bob, to nobody, and to another site", async () => {
    const bob = await cookieOf(people.bob);
    const alice = await cookieOf(people.alice);
    const path = `/api/console/${people.alice.sessionId}/controlplane`;
    expect(await openConsole(server.url, path, { cookie: bob, origin: server.url })).toMatchObject({ status: 404 });
    expect(await openConsole(server.url, path, { origin: server.url })).toMatchObject({ status: 401 });
    // A cookie with no Origin is no page of this site's either.
    expect(await openConsole(server.url, path, { cookie: alice })).toMatchObject({ status: 403 });
    expect(await openConsole(server.url, path, { cookie: alice, origin: 'https://evil.example' })).toMatchObject({ status: 403 });
    // Bob's own console opens, and the relay's protocol carries the simulator's bytes.
    const own = await openConsole(server.url, `/api/console/${people.bob.sessionId}/controlplane`, { cookie: bob, origin: server.url });
    expect(own.status).toBe(101);
    expect(own.firstBytes).toMatch(/root@controlplane|simulated/);
  });

  it('a learner can end their own session', async () => {
    const { page, sessionId } = people.bob;
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: `End session ${sessionId}` }).click();
    await page
      .getByRole('dialog', { name: `End session ${sessionId}?` })
      .getByRole('button', { name: 'End session' })
      .click();
    await expect.poll(() => page.locator('.session-table tbody tr').count(), { timeout: 30_000 }).toBe(0);
    // The page says why the terminal is gone, and the relay says the same to a client that asks anyway.
    await page.goto(`${server.url}/sessions/${sessionId}`);
    await expectVisible(page.getByText('Its VMs and namespace are gone, and with them the terminal and the commands to reach them.'));
    const late = await openConsole(server.url, `/api/console/${sessionId}/controlplane`, {
      cookie: await cookieOf(people.bob),
      origin: server.url,
    });
    expect(late).toMatchObject({ status: 101, firstBytes: expect.stringContaining('"state":"ended"') });
  });

  it('signing out ends access: the pages ask to sign in and the old cookie is worthless', async () => {
    const { page, context } = people.alice;
    await page.goto(`${server.url}/`);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const before = await fetch(`${server.url}/api/trpc/sessions.list`, { headers: { cookie } });
    expect(before.status).toBe(200);

    const console = `/api/console/${people.alice.sessionId}/controlplane`;
    expect(await openConsole(server.url, console, { cookie, origin: server.url })).toMatchObject({ status: 101 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);
    expect(await openConsole(server.url, console, { cookie, origin: server.url })).toMatchObject({ status: 401 });
    await page.goto(`${server.url}/sessions/${people.alice.sessionId}`);
    await page.waitForURL(/\/sign-in\?next=/);
    expect(await context.cookies()).toEqual([]);

    // The session cookie captured before signing out, replayed: the server has ended it.
    const after = await fetch(`${server.url}/api/trpc/sessions.list`, { headers: { cookie } });
    expect(after.status).toBe(401);
  });

  it('logged no console errors and no uncaught exceptions', () => {
    // The 404s the learners provoked on purpose, and calls cut off by signing out, are the only console errors allowed.
    for (const who of Object.values(people)) {
      expect(
        who.errors.filter(
          (e) => !/Failed to load resource: the server responded with a status of (404 \(Not Found\)|401 \(Unauthorized\))/i.test(e),
        ),
      ).toEqual([]);
    }
  });
});

async function expectVisible(locator: ReturnType<Page['locator']>, timeout = 15_000): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout });
}
