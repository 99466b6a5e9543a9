import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor } from '@cks-lab/core';
import { afterAll, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime, type Runtime } from '../../apps/web/src/server/runtime';
import { runThenKill } from './lab-process-control';

/**
 * Issue 9: the warm pool on the real runtime (SQLite, simulator, orchestrator). A pool of 3, a ready
 * golden image, 5 learners at once; refill; a new golden version; kill -9 while refilling.
 */
const dir = mkdtempSync(join(tmpdir(), 'cks-lab-pool-'));
const env = {
  ...process.env,
  LAB_DATA_DIR: dir,
  SIM_TIME_SCALE: '0.01',
  WARM_POOL_SIZE: '3',
  ADMIN_TOKEN: 'pool-test-admin-token',
  LOG_LEVEL: 'silent',
};

process.env.LOG_LEVEL = 'silent';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = () => createRuntime(readServerConfig(env), { maintenance: false });

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const poolReady = (runtime: Runtime, n: number) => async () => {
  const status = await runtime.lab.poolStatus();
  return status.ready === n && status.provisioning === 0;
};

describe('the warm pool on the real runtime', { timeout: 180_000 }, () => {
  let firstMembers: string[] = [];

  it('5 learners at once: 3 ready within 2 s of their click as warm, 2 by snapshot; the pool refills to 3', async () => {
    const runtime = await start();
    try {
      // No golden image yet: the pool stays empty and says why.
      expect(await runtime.lab.poolStatus()).toMatchObject({ target: 3, ready: 0, reason: expect.stringMatching(/never bootstraps/) });
      const source = await runtime.lab.createSession();
      await runtime.lab.idle();
      await runtime.lab.createGolden(source.id);
      await runtime.lab.idle();
      await waitFor('pool of 3 ready', poolReady(runtime, 3));

      const learners: Actor[] = [];
      for (let i = 1; i <= 5; i++) {
        const { account } = await runtime.accounts.create({ username: `learner${i}`, role: 'learner' });
        learners.push({ role: 'learner', userId: account.id });
      }
      const results = await Promise.all(
        learners.map(async (actor) => {
          const clickedAt = Date.now();
          const session = await runtime.lab.createSession(actor);
          return { session, clickedAt, answeredAt: Date.now(), actor };
        }),
      );
      const warm = results.filter((r) => r.session.strategy === 'warm');
      expect(warm).toHaveLength(3);
      for (const { session, clickedAt, answeredAt, actor } of warm) {
        expect(session.status).toBe('running');
        expect(answeredAt - clickedAt).toBeLessThan(2000);
        const { run, timeToReadyMs } = await runtime.lab.getSession(session.id, actor);
        expect(run).toMatchObject({ usedStrategy: 'warm', outcome: 'succeeded' });
        expect(timeToReadyMs).toBeLessThan(2000);
      }
      console.log(JSON.stringify({ warmClickToRunningMs: warm.map((r) => r.answeredAt - r.clickedAt) }));
      const cold = results.filter((r) => r.session.strategy !== 'warm');
      expect(cold.map((r) => r.session.strategy)).toEqual(['snapshot', 'snapshot']);
      await runtime.lab.idle();
      for (const { session, actor } of cold) {
        expect((await runtime.lab.getSession(session.id, actor)).run).toMatchObject({ usedStrategy: 'snapshot', outcome: 'succeeded' });
      }
      await waitFor('pool refilled to 3', poolReady(runtime, 3));
      const status = await runtime.lab.poolStatus();
      firstMembers = status.members.map((m) => m.sessionId);
      expect(firstMembers).toHaveLength(3);
      expect(firstMembers.some((id) => warm.some((w) => w.session.id === id))).toBe(false);
      // The claimed sessions are their learners' own.
      for (const { session, actor } of warm) expect((await runtime.lab.listSessions({}, actor)).map((s) => s.id)).toEqual([session.id]);

      // A new golden version replaces the 3 unclaimed members, never a claimed one.
      const oldVersion = status.members[0]!.goldenVersion!;
      await runtime.lab.createGolden(warm[0]!.session.id, true);
      await runtime.lab.idle();
      await waitFor('pool rebuilt on the new golden version', async () => {
        const now = await runtime.lab.poolStatus();
        return now.ready === 3 && now.members.every((m) => m.goldenVersion === oldVersion + 1);
      });
      for (const id of firstMembers) expect((await runtime.lab.getSession(id)).session.status).toBe('terminated');
      for (const { session } of warm) expect((await runtime.lab.getSession(session.id)).session.status).toBe('running');
    } finally {
      await runtime.close();
    }
  });

  it('resumes a refill killed with kill -9: the interrupted member comes up, the pool is 3 again', async () => {
    // The child claims a member (internal tools claim too), the pool starts a refill, and it dies.
    const claimed = await runThenKill(env, ['session'], 300);
    const runtime = await start();
    try {
      const interrupted = (await runtime.lab.poolStatus()).members.filter((m) => m.status !== 'running');
      expect((await runtime.lab.getSession(claimed)).session.strategy).toBe('warm');
      await runtime.lab.idle();
      await waitFor('pool of 3 after the restart', poolReady(runtime, 3));
      const status = await runtime.lab.poolStatus();
      expect(status.members).toHaveLength(3);
      for (const member of interrupted) {
        if (!status.members.some((m) => m.sessionId === member.sessionId)) continue;
        const detail = await runtime.lab.getSession(member.sessionId);
        expect(detail.run?.outcome).toBe('succeeded');
        expect(detail.steps.map((s) => s.name)).toEqual([
          'prepare-namespace',
          'create-vms-from-golden',
          'wait-disks-cloned',
          'wait-vms-running',
          'wait-cluster-ready',
        ]);
      }
      expect(interrupted.length).toBeGreaterThan(0);
    } finally {
      await runtime.close();
    }
  });
});
