import { describe, expect, it } from 'vitest';
import { LimitError, NotFoundError } from './errors';
import { canAccessSession, ownerLimit, visibleSessions } from './sessions';
import { createTestLab } from './testing';
import { type Actor, type Session, SYSTEM_ACTOR } from './types';

const alice: Actor = { role: 'learner', userId: 'user-alice' };
const bob: Actor = { role: 'learner', userId: 'user-bob' };
const admin: Actor = { role: 'admin', userId: 'user-admin' };

const owned = (ownerId: string | null): Session => ({
  id: '76c3ac01',
  namespace: 'user-session-76c3ac01',
  status: 'running',
  createdAt: 0,
  updatedAt: 0,
  expiresAt: 1,
  strategy: 'bootstrap',
  failureReason: null,
  runId: null,
  ownerId,
});

describe('ownership rules', () => {
  it('lets a learner access their own sessions only, and admins every session', () => {
    expect(canAccessSession(alice, owned('user-alice'))).toBe(true);
    expect(canAccessSession(alice, owned('user-bob'))).toBe(false);
    expect(canAccessSession(alice, owned(null))).toBe(false);
    expect(canAccessSession(admin, owned('user-bob'))).toBe(true);
    expect(canAccessSession(SYSTEM_ACTOR, owned(null))).toBe(true);
  });

  it('narrows a learner’s list to their own sessions; an admin’s list is unchanged', () => {
    expect(visibleSessions(alice, { includeEnded: true })).toEqual({ includeEnded: true, ownerId: 'user-alice' });
    expect(visibleSessions(admin, { includeEnded: true })).toEqual({ includeEnded: true });
  });

  it('limits learners per account; admins only by the global limit', () => {
    expect(ownerLimit(alice, { sessionsPerLearner: 2 })).toBe(2);
    expect(ownerLimit(admin, { sessionsPerLearner: 2 })).toBeNull();
  });
});

describe('sessions of learners', () => {
  it('records the owner, and another learner’s id answers as not found for every operation', async () => {
    const h = createTestLab();
    const session = await h.lab.createSession(alice);
    expect(session.ownerId).toBe('user-alice');
    await h.lab.idle();

    await expect(h.lab.getSession(session.id, bob)).rejects.toThrow(NotFoundError);
    await expect(h.lab.getSession(session.id, bob)).rejects.toThrow(`session ${session.id} does not exist`);
    await expect(h.lab.sessionObjects(session.id, bob)).rejects.toThrow(NotFoundError);
    await expect(h.lab.extendSession(session.id, bob)).rejects.toThrow(NotFoundError);
    await expect(h.lab.deleteSession(session.id, bob)).rejects.toThrow(NotFoundError);
    expect(await h.lab.listSessions({}, bob)).toEqual([]);
    expect((await h.store.getSession(session.id))?.status).toBe('running');

    expect((await h.lab.getSession(session.id, alice)).session.id).toBe(session.id);
    expect((await h.lab.getSession(session.id, admin)).session.ownerId).toBe('user-alice');
    expect((await h.lab.extendSession(session.id, alice)).id).toBe(session.id);
    expect((await h.lab.deleteSession(session.id, alice)).status).toBe('terminating');
    await h.lab.idle();
  });

  it('lists a learner’s own sessions, and all of them with their owners for an admin', async () => {
    const h = createTestLab();
    const a = await h.lab.createSession(alice);
    const b = await h.lab.createSession(bob);
    const tool = await h.lab.createSession();
    await h.lab.idle();
    expect((await h.lab.listSessionSummaries({}, alice)).map((s) => s.session.id)).toEqual([a.id]);
    expect((await h.lab.listSessionSummaries({}, bob)).map((s) => s.session.id)).toEqual([b.id]);
    const all = await h.lab.listSessionSummaries({}, admin);
    expect(all.map((s) => [s.session.id, s.session.ownerId]).sort()).toEqual(
      [
        [a.id, 'user-alice'],
        [b.id, 'user-bob'],
        [tool.id, null],
      ].sort(),
    );
  });

  it('takes a learner at their limit back to their newest active session instead of starting another', async () => {
    const h = createTestLab({ config: { sessionsPerLearner: 1 } });
    const first = await h.lab.startSession(alice);
    expect(first.resumed).toBe(false);
    const again = await h.lab.startSession(alice);
    expect(again).toEqual({ session: expect.objectContaining({ id: first.session.id }), resumed: true });
    // Another learner is not affected by Alice's limit.
    expect((await h.lab.startSession(bob)).resumed).toBe(false);
    expect(await h.store.countActiveSessions()).toBe(2);

    // Once it has ended, start makes a new one.
    await h.lab.idle();
    await h.lab.deleteSession(first.session.id, alice);
    await h.lab.idle();
    const next = await h.lab.startSession(alice);
    expect(next.resumed).toBe(false);
    expect(next.session.id).not.toBe(first.session.id);
    await h.lab.idle();
  });

  it('enforces the per-learner limit atomically and says which limit was hit', async () => {
    const h = createTestLab({ config: { sessionsPerLearner: 2, maxConcurrentSessions: 3 } });
    // Concurrent creates by one learner: exactly the allowed number get in.
    const results = await Promise.allSettled([h.lab.createSession(alice), h.lab.createSession(alice), h.lab.createSession(alice)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(LimitError);
    expect(rejected.reason.message).toBe('you already have 2 active sessions (at most 2); end one first');

    await h.lab.createSession(bob);
    await expect(h.lab.createSession({ role: 'learner', userId: 'user-carol' })).rejects.toThrow(
      'the limit of 3 concurrent sessions is reached; end a session or wait for one to expire',
    );
    // Admins have no per-account limit, only the global one.
    await expect(h.lab.createSession(admin)).rejects.toThrow(LimitError);
    await h.lab.idle();
  });

  it('does not limit admins per account', async () => {
    const h = createTestLab({ config: { sessionsPerLearner: 1 } });
    const one = await h.lab.startSession(admin);
    const two = await h.lab.startSession(admin);
    expect([one.resumed, two.resumed]).toEqual([false, false]);
    expect(two.session.ownerId).toBe('user-admin');
    await h.lab.idle();
  });
});
