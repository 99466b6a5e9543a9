import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiAnswer, asBrowser, codeOf, mutate, query, signIn } from './support/api';
import { type NextServer, startNextServer } from './support/next-server';

/**
 * Issue 8: the API against hostile clients, over plain HTTP on the production server: no
 * credentials, someone else's session, cross-site forms, malformed input, oversized bodies.
 */

const ADMIN_TOKEN = 'abuse-admin-token-0123456789abcdef';
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const MiB = 1024 * 1024;

let server: NextServer;
let alice: Record<string, string>;
let bob: Record<string, string>;
let aliceSession: string;
let bobSession: string;

beforeAll(async () => {
  server = await startNextServer({ env: { SIM_TIME_SCALE: '0.01', ADMIN_TOKEN, LOG_LEVEL: 'warn' } });
  const passwords: Record<string, string> = {};
  for (const username of ['alice', 'bob']) {
    const created = await mutate(server.url, 'users.create', { username, role: 'learner' }, ADMIN);
    expect(created.status).toBe(200);
    passwords[username] = created.body.result.data.password;
  }
  alice = asBrowser(server.url, await signIn(server.url, 'alice', passwords.alice!));
  bob = asBrowser(server.url, await signIn(server.url, 'bob', passwords.bob!));
  aliceSession = (await mutate(server.url, 'sessions.create', undefined, alice)).body.result.data.id;
  bobSession = (await mutate(server.url, 'sessions.create', undefined, bob)).body.result.data.id;
});

afterAll(async () => {
  await server?.stop();
});

const SOME_ID = { id: '76c3ac1b' };
const QUERIES: Array<[string, unknown]> = [
  ['cluster.info', undefined],
  ['account.me', undefined],
  ['sessions.list', undefined],
  ['sessions.get', SOME_ID],
  ['metrics.summary', undefined],
  ['metrics.series', undefined],
  ['metrics.distribution', undefined],
  ['metrics.steps', undefined],
  ['metrics.rates', undefined],
  ['snapshots.status', undefined],
  ['users.list', undefined],
];
const MUTATIONS: Array<[string, unknown]> = [
  ['sessions.create', undefined],
  ['sessions.delete', SOME_ID],
  ['sessions.extend', SOME_ID],
  ['snapshots.create', { sessionId: '76c3ac1b' }],
  ['snapshots.recreate', { sessionId: '76c3ac1b' }],
  ['snapshots.delete', undefined],
  ['users.create', { username: 'mallory', role: 'admin' }],
  ['users.resetPassword', { id: 'x' }],
  ['users.setDisabled', { id: 'x', disabled: true }],
];

describe('the API against hostile clients', () => {
  it('answers 401 to every learner and admin procedure without credentials', async () => {
    for (const [path, input] of QUERIES) {
      const result = await query(server.url, path, input);
      expect([path, result.status, codeOf(result)]).toEqual([path, 401, 'UNAUTHORIZED']);
    }
    for (const [path, input] of MUTATIONS) {
      const result = await mutate(server.url, path, input);
      expect([path, result.status, codeOf(result)]).toEqual([path, 401, 'UNAUTHORIZED']);
    }
    // The live progress stream too, asked for as an EventSource asks.
    const watch = await query(server.url, 'sessions.watch', { id: aliceSession }, { accept: 'text/event-stream' });
    expect([watch.status, codeOf(watch)]).toEqual([401, 'UNAUTHORIZED']);
  });

  it('answers NOT_FOUND to another learner’s session id, and leaves it alone', async () => {
    for (const result of [
      await query(server.url, 'sessions.get', { id: bobSession }, alice),
      await mutate(server.url, 'sessions.extend', { id: bobSession }, alice),
      await mutate(server.url, 'sessions.delete', { id: bobSession }, alice),
    ]) {
      expect([result.status, codeOf(result)]).toEqual([404, 'NOT_FOUND']);
      expect(result.body.error.message).toBe(`session ${bobSession} does not exist`);
    }
    expect(sseError(await query(server.url, 'sessions.watch', { id: bobSession }, alice))).toBe('NOT_FOUND');
    expect((await query(server.url, 'sessions.list', undefined, alice)).body.result.data.map((s: { id: string }) => s.id)).toEqual([
      aliceSession,
    ]);
    const bobs = await query(server.url, 'sessions.get', { id: bobSession }, bob);
    expect(bobs.body.result.data.status).not.toMatch(/terminat/);
    // Learners are not admins.
    expect(codeOf(await query(server.url, 'users.list', undefined, alice))).toBe('FORBIDDEN');
    expect(codeOf(await mutate(server.url, 'snapshots.create', { sessionId: aliceSession }, alice))).toBe('FORBIDDEN');
  });

  it('refuses cross-site form posts and cross-site JSON, and starts nothing', async () => {
    const before = (await query(server.url, 'sessions.list', { includeEnded: true }, ADMIN)).body.result.data.length;
    const crossSite = { cookie: alice.cookie!, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    const form = (contentType: string, body: string) =>
      fetch(`${server.url}/api/trpc/sessions.create`, { method: 'POST', headers: { ...crossSite, 'content-type': contentType }, body });
    const boundary = '----x';
    for (const response of [
      await form('application/x-www-form-urlencoded', 'a=b'),
      await form(
        `multipart/form-data; boundary=${boundary}`,
        `--${boundary}\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--${boundary}--\r\n`,
      ),
      await form('text/plain', '{}'),
    ]) {
      expect(response.status).toBe(415);
    }
    // Even a form post from our own origin is refused: state changes are JSON only.
    expect(
      (
        await fetch(`${server.url}/api/trpc/sessions.create`, {
          method: 'POST',
          headers: { ...alice, 'content-type': 'multipart/form-data; boundary=x' },
          body: '--x--',
        })
      ).status,
    ).toBe(415);
    // JSON with the cookie from another site (or with no proof of origin at all).
    expect((await mutate(server.url, 'sessions.create', undefined, crossSite)).status).toBe(403);
    expect((await mutate(server.url, 'sessions.create', undefined, { cookie: alice.cookie!, 'sec-fetch-site': 'same-site' })).status).toBe(
      403,
    );
    expect((await mutate(server.url, 'sessions.create', undefined, { cookie: alice.cookie! })).status).toBe(403);
    // The sign-in endpoint is behind the same guard.
    const login = await fetch(`${server.url}/api/auth/sign-in/username`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=x',
    });
    expect(login.status).toBe(415);

    expect((await query(server.url, 'sessions.list', { includeEnded: true }, ADMIN)).body.result.data).toHaveLength(before);
  });

  it('answers malformed input with 400 and the reason, and logs it', async () => {
    const badId = await query(server.url, 'sessions.get', { id: '../../etc' }, alice);
    expect([badId.status, codeOf(badId)]).toEqual([400, 'BAD_REQUEST']);
    expect(badId.body.error.message).toBe('id: malformed session id: expected 8 lowercase hex characters, e.g. 76c3ac1b');

    const wrongType = await mutate(server.url, 'sessions.extend', { id: 42 }, alice);
    expect([wrongType.status, codeOf(wrongType)]).toEqual([400, 'BAD_REQUEST']);
    expect(wrongType.body.error.message).toMatch(/^id: /);

    const badRange = await query(server.url, 'metrics.summary', { from: 10, to: 1 }, alice);
    expect([badRange.status, badRange.body.error.message]).toEqual([400, 'from must not be after to']);

    const notJson = await fetch(`${server.url}/api/trpc/sessions.extend`, {
      method: 'POST',
      headers: { ...alice, 'content-type': 'application/json' },
      body: '{"id":',
    });
    expect(notJson.status).toBe(400);

    const tooBig = await fetch(`${server.url}/api/trpc/${Array(11).fill('cluster.info').join(',')}?batch=1`, { headers: alice });
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toContain('Batch call exceeds maximum size');

    await expect.poll(() => server.output()).toMatch(/"error":"id: malformed session id[^"]*","msg":"API call refused"/);
  });

  it('refuses an oversized body with 413, by its declared length and while it streams, with memory bounded', async () => {
    const declared = await fetch(`${server.url}/api/trpc/sessions.extend`, {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x'.repeat(2 * MiB) }),
    });
    expect(declared.status).toBe(413);

    const rssBefore = server.rssBytes();
    const streamed = await streamBody(`${server.url}/api/trpc/sessions.extend`, 256 * MiB);
    expect(streamed.status).toBe(413);
    // The server hung up instead of taking the rest.
    expect(streamed.sent).toBeLessThan(256 * MiB);
    const grownBy = server.rssBytes() - rssBefore;
    console.log(
      JSON.stringify({
        oversizedBody: {
          offeredBytes: 256 * MiB,
          sentBytes: streamed.sent,
          rssBeforeMiB: Math.round(rssBefore / MiB),
          rssGrowthMiB: Math.round(grownBy / MiB),
        },
      }),
    );
    expect(grownBy).toBeLessThan(64 * MiB);
    // The server is still fine.
    expect((await query(server.url, 'sessions.list', undefined, alice)).status).toBe(200);
  });

  it('limits password guessing per account, whatever client address the request claims', async () => {
    const { password } = (await mutate(server.url, 'users.create', { username: 'carol' }, ADMIN)).body.result.data;
    const attempt = (i: number, guess: string) =>
      fetch(`${server.url}/api/auth/sign-in/username`, {
        method: 'POST',
        // A fresh X-Forwarded-For each time: the library's per-address limit never sees a repeat.
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
        body: JSON.stringify({ username: 'carol', password: guess }),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await attempt(i, `guess-${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    const locked = await attempt(10, password);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other accounts are not affected.
    expect((await query(server.url, 'account.me', undefined, alice)).status).toBe(200);
  });

  it('sends the security headers on pages, the API and errors', async () => {
    for (const path of ['/sign-in', '/', '/api/health', '/api/trpc/cluster.info', '/no-such-page']) {
      const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      const csp = response.headers.get('content-security-policy') ?? '';
      expect([path, csp]).toEqual([path, expect.stringContaining("frame-ancestors 'none'")]);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('same-origin');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
  });
});

/** The code of the error an SSE answer carries, which must be its only event (no session data leaks before it). */
function sseError(result: ApiAnswer): string {
  const text = String(result.body);
  expect(text).not.toMatch(/^event: (?!serialized-error|connected)/m);
  expect(text).not.toContain('"namespace"');
  return /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? text;
}

/**
 * POSTs `bytes` of JSON-looking body in 64 KiB chunks without a length (chunked), as fast as the
 * server takes it, and goes on sending after the answer, as a hostile client would, until the
 * server closes the connection or everything is sent.
 */
function streamBody(url: string, bytes: number): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let status = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const done = () => (status ? resolve({ status, sent }) : reject(new Error(`no answer after ${sent} bytes`)));
    const req = request(
      url,
      { method: 'POST', headers: { ...ADMIN, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        status = res.statusCode ?? 0;
        res.resume();
      },
    );
    req.on('error', done);
    req.on('close', done);
    const pump = () => {
      while (sent < bytes && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    req.write('{"id":"');
    pump();
  });
}
