import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerConfig } from '../config';
import { ACT_AS_HEADER, identify } from '../identity';
import { createRuntime, type Runtime } from '../runtime';
import { appRouter } from './root';

/**
 * The router's authorization on a real runtime (SQLite, better-auth, the simulator): who may call
 * what, and what a learner sees of other learners' sessions.
 */
const ADMIN_TOKEN = 'router-test-admin-token-0123456789';

let runtime: Runtime;
let dataDir: string;
const passwords: Record<string, string> = {};

/** A caller as the route builds it from request headers. */
async function caller(headers: Record<string, string> = {}) {
  const h = new Headers(headers);
  return appRouter.createCaller({ runtime, caller: await identify(runtime, h) });
}

/** Signs in through better-auth's own endpoint and returns the cookie header a browser would send. */
async function signIn(username: string, password = passwords[username]!): Promise<Record<string, string>> {
  const { headers } = await runtime.auth.api.signInUsername({ body: { username, password }, returnHeaders: true });
  const cookie = headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0])
    .join('; ');
  return { cookie };
}

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'OK';
  } catch (error) {
    if (error instanceof TRPCError) return error.code;
    throw error;
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cks-lab-router-'));
  const config = readServerConfig({
    LAB_DATA_DIR: dataDir,
    ADMIN_TOKEN,
    SIM_TIME_SCALE: '0.001',
    LAB_ADMIN_USERNAME: 'root',
    LAB_ADMIN_PASSWORD: 'root-password-0123',
    SESSION_STARTS_PER_HOUR: '3',
    NODE_ENV: 'test',
  });
  runtime = await createRuntime(config, { maintenance: false });
  passwords.root = 'root-password-0123';
  const admin = await caller({ authorization: `Bearer ${ADMIN_TOKEN}` });
  for (const name of ['alice', 'bob']) passwords[name] = (await admin.users.create({ username: name, role: 'learner' })).password;
}, 60_000);

afterAll(async () => {
  await runtime?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('authorization', () => {
  it('answers UNAUTHORIZED to every procedure without credentials', async () => {
    const anonymous = await caller();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['cluster.info', () => anonymous.cluster.info()],
      ['account.me', () => anonymous.account.me()],
      ['sessions.list', () => anonymous.sessions.list()],
      ['sessions.create', () => anonymous.sessions.create()],
      ['sessions.get', () => anonymous.sessions.get({ id: '76c3ac1b' })],
      ['sessions.delete', () => anonymous.sessions.delete({ id: '76c3ac1b' })],
      ['sessions.extend', () => anonymous.sessions.extend({ id: '76c3ac1b' })],
      ['metrics.summary', () => anonymous.metrics.summary()],
      ['snapshots.status', () => anonymous.snapshots.status()],
      ['snapshots.create', () => anonymous.snapshots.create({ sessionId: '76c3ac1b' })],
      ['snapshots.delete', () => anonymous.snapshots.delete()],
      ['users.list', () => anonymous.users.list()],
      ['users.create', () => anonymous.users.create({ username: 'mallory' })],
      ['users.setDisabled', () => anonymous.users.setDisabled({ id: 'x', disabled: true })],
    ];
    for (const [path, call] of calls) expect([path, await codeOf(call())]).toEqual([path, 'UNAUTHORIZED']);
  });

  it('refuses a wrong admin token, and --as an unknown account', async () => {
    expect(await codeOf((await caller({ authorization: 'Bearer wrong-token' })).sessions.list())).toBe('FORBIDDEN');
    expect(await codeOf((await caller({ authorization: `Bearer ${ADMIN_TOKEN}`, [ACT_AS_HEADER]: 'nobody' })).sessions.list())).toBe(
      'BAD_REQUEST',
    );
  });

  it('keeps learners out of admin procedures', async () => {
    const alice = await caller(await signIn('alice'));
    expect(await alice.account.me()).toEqual({ name: 'alice', role: 'learner', via: 'account' });
    expect(await codeOf(alice.snapshots.status())).toBe('FORBIDDEN');
    expect(await codeOf(alice.users.list())).toBe('FORBIDDEN');
    expect(await codeOf(alice.users.create({ username: 'mallory', role: 'admin' }))).toBe('FORBIDDEN');
  });

  it('gives each learner their own sessions; another’s id is NOT_FOUND; admins see all with owners', async () => {
    const alice = await caller(await signIn('alice'));
    const bob = await caller({ authorization: `Bearer ${ADMIN_TOKEN}`, [ACT_AS_HEADER]: 'bob' });
    const aliceSession = await alice.sessions.create();
    const bobSession = await bob.sessions.create();
    expect(aliceSession).toMatchObject({ owner: { name: 'alice' }, resumed: false });
    expect(bobSession.owner?.name).toBe('bob');

    expect((await alice.sessions.list()).map((s) => s.id)).toEqual([aliceSession.id]);
    for (const call of [
      alice.sessions.get({ id: bobSession.id }),
      alice.sessions.extend({ id: bobSession.id }),
      alice.sessions.delete({ id: bobSession.id }),
    ]) {
      expect(await codeOf(call)).toBe('NOT_FOUND');
    }

    // Pressing start again takes Alice back to her session (SESSIONS_PER_LEARNER defaults to 1).
    expect(await alice.sessions.create()).toMatchObject({ id: aliceSession.id, resumed: true });

    const root = await caller(await signIn('root'));
    const all = await root.sessions.list();
    expect(all.map((s) => [s.id, s.owner?.name]).sort()).toEqual(
      [
        [aliceSession.id, 'alice'],
        [bobSession.id, 'bob'],
      ].sort(),
    );
    expect((await root.sessions.get({ id: bobSession.id })).owner?.name).toBe('bob');
    expect((await bob.sessions.delete({ id: bobSession.id })).status).toBe('terminating');
  });

  it('limits how often a learner starts', async () => {
    const bob = await caller(await signIn('bob'));
    // Bob started once above (through --as); the limit is 3 an hour.
    await bob.sessions.create();
    await bob.sessions.create();
    const refused = bob.sessions.create();
    await expect(refused).rejects.toThrow(/too many session starts; try again in \d+ min/);
    expect(await codeOf(bob.sessions.create())).toBe('TOO_MANY_REQUESTS');
  });

  it('answers malformed input with BAD_REQUEST and the reason', async () => {
    const alice = await caller(await signIn('alice'));
    await expect(alice.sessions.get({ id: 'nope' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(alice.sessions.get({ id: 'nope' })).rejects.toThrow(/malformed session id/);
  });

  it('lets admins create, reset and disable accounts; a disabled account is signed out and cannot sign in', async () => {
    const root = await caller(await signIn('root'));
    const carol = await root.users.create({ username: 'Carol', role: 'learner' });
    expect(carol).toMatchObject({ username: 'carol', role: 'learner', disabled: false });
    expect(carol.password).toMatch(/^[\w-]{20}$/);
    expect(await codeOf(root.users.create({ username: 'carol' }))).toBe('CONFLICT');
    expect(await codeOf(root.users.create({ username: 'no spaces' }))).toBe('BAD_REQUEST');

    const carolCookie = await signIn('carol', carol.password);
    expect((await (await caller(carolCookie)).account.me()).name).toBe('carol');

    const reset = await root.users.resetPassword({ id: carol.id });
    expect(reset.password).not.toBe(carol.password);
    // The reset ended her sign-in; the old password no longer works, the new one does.
    expect(await codeOf((await caller(carolCookie)).account.me())).toBe('UNAUTHORIZED');
    await expect(signIn('carol', carol.password)).rejects.toThrow();
    const again = await signIn('carol', reset.password);

    expect(await root.users.setDisabled({ id: carol.id, disabled: true })).toMatchObject({ disabled: true });
    expect(await codeOf((await caller(again)).account.me())).toBe('UNAUTHORIZED');
    await expect(signIn('carol', reset.password)).rejects.toThrow(/disabled/);
    expect(await codeOf((await caller({ authorization: `Bearer ${ADMIN_TOKEN}`, [ACT_AS_HEADER]: 'carol' })).sessions.list())).toBe(
      'FORBIDDEN',
    );

    await root.users.setDisabled({ id: carol.id, disabled: false });
    await signIn('carol', reset.password);

    const rootId = (await root.users.list()).find((a) => a.username === 'root')!.id;
    expect(await codeOf(root.users.setDisabled({ id: rootId, disabled: true }))).toBe('BAD_REQUEST');
  });
});
