import { describe, expect, it } from 'vitest';
import { LimitError } from './errors';
import { type PoolInputs, type PoolMember, planPool, poolBackoff } from './pool';
import type { StrategyDecision } from './strategy';
import { createTestLab, seedGolden, type TestLab, until } from './testing';
import type { GoldenImage } from './types';

const S = 1000;
const learner = (n: number) => ({ role: 'learner' as const, userId: `user-${n}` });

const golden = (version: number) => ({ version, expiresAt: Infinity }) as unknown as GoldenImage;
const usable = (version: number): StrategyDecision => ({
  strategy: 'snapshot',
  golden: golden(version),
  reason: null,
  detail: `golden image v${version}`,
});
const unusable: StrategyDecision = {
  strategy: 'bootstrap',
  golden: null,
  reason: 'no-golden-image',
  detail: 'no golden image has been built yet',
};
const member = (id: string, status: PoolMember['status'], goldenVersion: number, createdAt = 0): PoolMember => ({
  sessionId: id,
  status,
  goldenVersion,
  createdAt,
});
const inputs = (overrides: Partial<PoolInputs>): PoolInputs => ({
  target: 3,
  members: [],
  decision: usable(1),
  activeSessions: 0,
  maxConcurrentSessions: 10,
  now: 0,
  retryAt: null,
  ...overrides,
});

describe('planPool', () => {
  it('fills the gap to the target from the usable golden image', () => {
    expect(planPool(inputs({ members: [member('a', 'running', 1)], activeSessions: 1 }))).toEqual({ create: 2, retire: [], reason: null });
  });

  it('never bootstraps: without a usable golden image it stays empty and says why', () => {
    const plan = planPool(inputs({ decision: unusable, members: [member('a', 'running', 1)] }));
    expect(plan.create).toBe(0);
    expect(plan.retire).toEqual([{ sessionId: 'a', why: 'no usable golden image' }]);
    expect(plan.reason).toMatch(/never bootstraps: no golden image has been built yet/);
  });

  it('replaces members of an older golden version, and leaves those being deleted alone', () => {
    const plan = planPool(
      inputs({
        decision: usable(2),
        members: [member('a', 'running', 1), member('b', 'provisioning', 2), member('c', 'terminating', 1)],
        activeSessions: 3,
      }),
    );
    expect(plan.retire).toEqual([{ sessionId: 'a', why: 'built from golden image v1, now v2' }]);
    expect(plan.create).toBe(2);
  });

  it('shrinks to a smaller target, provisioning members first', () => {
    const plan = planPool(
      inputs({ target: 1, members: [member('a', 'provisioning', 1, 1), member('b', 'running', 1, 2), member('c', 'running', 1, 3)] }),
    );
    expect(plan.retire.map((r) => r.sessionId)).toEqual(['c', 'a']);
    expect(plan.create).toBe(0);
  });

  it('fits under the concurrency limit and says so', () => {
    const plan = planPool(inputs({ activeSessions: 9 }));
    expect(plan.create).toBe(1);
    expect(plan.reason).toMatch(/limit of 10 concurrent sessions leaves room for 1 more/);
  });

  it('waits out the backoff after a failure', () => {
    expect(planPool(inputs({ now: 5, retryAt: 10 }))).toMatchObject({ create: 0, reason: expect.stringMatching(/a member failed/) });
    expect(planPool(inputs({ now: 10, retryAt: 10 })).create).toBe(3);
  });

  it('backs off doubling, at most 32 times the base', () => {
    expect([0, 1, 2, 3, 6, 10].map((n) => poolBackoff(1000, n))).toEqual([0, 1000, 2000, 4000, 32000, 32000]);
  });
});

async function poolLab(options: Parameters<typeof createTestLab>[0] = {}): Promise<TestLab> {
  const h = createTestLab({ ...options, config: { warmPoolSize: 3, poolBackoffMs: 10 * S, ...options.config } });
  await seedGolden(h);
  await h.lab.start();
  await h.lab.idle();
  return h;
}

describe('the warm pool in the Lab', () => {
  it('keeps the target ready, owned by nobody and hidden from learners', async () => {
    const h = await poolLab();
    const status = await h.lab.poolStatus();
    expect(status).toMatchObject({ target: 3, ready: 3, provisioning: 0, failing: 0, reason: null });
    const sessions = await h.lab.listSessions();
    expect(sessions.every((s) => s.pool && s.ownerId === null && s.strategy === 'snapshot')).toBe(true);
    expect(await h.lab.listSessions({}, learner(1))).toEqual([]);
  });

  it('a start claims a ready member at once as `warm` with a fresh TTL, and the pool refills', async () => {
    const h = await poolLab();
    await h.clock.sleep(30 * 60 * S);
    const clickedAt = h.clock.now();
    const session = await h.lab.createSession(learner(1));
    expect(session).toMatchObject({
      status: 'running',
      strategy: 'warm',
      ownerId: 'user-1',
      pool: false,
      expiresAt: clickedAt + h.config.sessionTtlMs,
    });
    const detail = await h.lab.getSession(session.id, learner(1));
    expect(detail.run).toMatchObject({
      usedStrategy: 'warm',
      requestedStrategy: 'warm',
      outcome: 'succeeded',
      startedAt: clickedAt,
      endedAt: clickedAt,
      goldenVersion: 1,
    });
    expect(detail.timeToReadyMs).toBe(0);
    await h.lab.idle();
    expect(await h.lab.poolStatus()).toMatchObject({ ready: 3, provisioning: 0 });
    // The claimed session is the learner's; the pool does not count it.
    expect((await h.lab.listSessions()).filter((s) => s.pool)).toHaveLength(3);
  });

  it('a learner at their own limit claims nothing', async () => {
    const h = await poolLab({ config: { sessionsPerLearner: 1 } });
    await h.lab.createSession(learner(1));
    await expect(h.lab.createSession(learner(1))).rejects.toBeInstanceOf(LimitError);
    await h.lab.idle();
    expect((await h.lab.poolStatus()).ready).toBe(3);
  });

  it('more starts than members: the rest provision by snapshot', async () => {
    const h = await poolLab();
    const sessions = await Promise.all([1, 2, 3, 4, 5].map((n) => h.lab.createSession(learner(n))));
    expect(sessions.map((s) => s.strategy).sort()).toEqual(['snapshot', 'snapshot', 'warm', 'warm', 'warm']);
    await h.lab.idle();
    expect(await h.lab.poolStatus()).toMatchObject({ ready: 3 });
  });

  it('yields to learners: a full pool gives up a member so a learner is never refused for it', async () => {
    const h = await poolLab({ config: { maxConcurrentSessions: 4 } });
    expect(await h.store.countActiveSessions()).toBe(3);
    await h.lab.createSession(learner(1)); // claims one; the pool refills to the limit
    await h.lab.idle();
    expect(await h.store.countActiveSessions()).toBe(4);
    // Claimed members leave the pool; at the limit, each start claims the next until none is left.
    for (const n of [2, 3, 4]) await expect(h.lab.createSession(learner(n))).resolves.toMatchObject({ strategy: 'warm' });
    await expect(h.lab.createSession(learner(5))).rejects.toBeInstanceOf(LimitError);
    await h.lab.idle();
    expect(await h.lab.poolStatus()).toMatchObject({ ready: 0, reason: expect.stringMatching(/room for 0 more/) });
  });

  it('evicts a member still provisioning to make room for a learner', async () => {
    const h = createTestLab({ config: { warmPoolSize: 2, maxConcurrentSessions: 3 } });
    await seedGolden(h);
    await h.lab.createSession(learner(1));
    await h.lab.start();
    await h.clock.sleep(1 * S);
    expect((await h.lab.poolStatus()).provisioning).toBe(2);
    const second = await h.lab.createSession(learner(2));
    expect(second.strategy).toBe('snapshot');
    await h.lab.idle();
    const owned = (await h.lab.listSessions()).filter((s) => !s.pool);
    expect(owned.map((s) => s.status)).toEqual(['running', 'running']);
    expect((await h.lab.poolStatus()).ready).toBe(1);
  });

  it('a new golden version replaces the unclaimed members, never a claimed one', async () => {
    const h = await poolLab();
    const claimed = await h.lab.createSession(learner(1));
    await h.lab.idle();
    const before = (await h.lab.poolStatus()).members.map((m) => m.sessionId);
    await seedGolden(h, { version: 2 });
    await h.lab.maintainOnce();
    await h.lab.idle();
    const after = await h.lab.poolStatus();
    expect(after).toMatchObject({ ready: 3 });
    expect(after.members.every((m) => m.goldenVersion === 2 && !before.includes(m.sessionId))).toBe(true);
    for (const id of before) expect((await h.store.getSession(id))?.status).toBe('terminated');
    expect((await h.store.getSession(claimed.id))?.status).toBe('running');
  });

  it('without a usable golden image it stays empty and says why', async () => {
    const h = createTestLab({ config: { warmPoolSize: 2 } });
    await h.lab.start();
    await h.lab.idle();
    expect(await h.lab.poolStatus()).toMatchObject({ ready: 0, provisioning: 0, reason: expect.stringMatching(/never bootstraps/) });
    expect(await h.store.countActiveSessions()).toBe(0);
    expect((await h.lab.createSession(learner(1))).strategy).toBe('bootstrap');
  });

  it('a failed member is replaced after a backoff, never by bootstrap, and the failure is visible', async () => {
    const h = createTestLab({ config: { warmPoolSize: 1, poolBackoffMs: 60 * S }, cluster: { failClone: true } });
    await seedGolden(h);
    await h.lab.start({ maintenanceIntervalMs: 5 * S });
    await until(h.clock, async () => (await h.lab.poolStatus()).failing >= 2);
    const status = await h.lab.poolStatus();
    expect(status.lastFailure).toBeTruthy();
    expect(status.reason).toMatch(/a member failed/);
    const runs = h.store.dump().runs;
    expect(runs.every((r) => r.pool && r.usedStrategy === 'snapshot')).toBe(true);
    // Two failures: one backoff of 60 s between them.
    expect(runs[1]!.startedAt - runs[0]!.endedAt!).toBeGreaterThanOrEqual(60 * S);
    h.cluster.failClone = false;
    await until(h.clock, async () => (await h.lab.poolStatus()).ready === 1, { timeoutMs: 10 * 60 * S });
    expect((await h.lab.poolStatus()).failing).toBe(0);
    await h.lab.stop();
  });

  it('a member is never a golden-image source', async () => {
    const h = await poolLab();
    const [member] = (await h.lab.poolStatus()).members;
    await expect(h.lab.createGolden(member!.sessionId, true)).rejects.toThrow(/unclaimed warm-pool member/);
  });

  it('resizes at run time', async () => {
    const h = await poolLab();
    await h.lab.resizePool(1);
    await h.lab.idle();
    expect(await h.lab.poolStatus()).toMatchObject({ target: 1, ready: 1 });
    await expect(h.lab.resizePool(-1)).rejects.toThrow(/whole number/);
  });

  it('members survive a restart and resume like any run', async () => {
    const h = createTestLab({ config: { warmPoolSize: 2 } });
    await seedGolden(h);
    await h.lab.start();
    await h.clock.sleep(10 * S);
    expect((await h.lab.poolStatus()).provisioning).toBe(2);
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.lab.poolStatus()).toMatchObject({ ready: 2, provisioning: 0 });
    expect(restarted.store.dump().sessions.filter((s) => s.pool)).toHaveLength(2);
  });
});
