import { describe, expect, it } from 'vitest';
import { Lab } from './lab';
import { createTestLab, latch, type TestLab } from './testing';

/** Deleting a session is single-flight: the store's transition to `terminating` is the lock. */

async function runningSession(h: TestLab): Promise<string> {
  const session = await h.lab.createSession();
  await h.lab.idle();
  return session.id;
}

describe('concurrent deletes of one session', () => {
  it('30 at once delete it once', async () => {
    const h = createTestLab();
    const id = await runningSession(h);
    const results = await Promise.all(Array.from({ length: 30 }, () => h.lab.deleteSession(id)));
    await h.lab.idle();
    expect(results.every((s) => s.id === id && (s.status === 'terminating' || s.status === 'terminated'))).toBe(true);
    expect(h.cluster.callsOf('deleteSession')).toHaveLength(1);
    expect((await h.store.getSession(id))?.status).toBe('terminated');
    expect(h.logger.entries.filter((e) => e.message === 'session deleted')).toHaveLength(1);
  });

  it('two servers on one database: the one that made the transition deletes, the other does nothing', async () => {
    const h = createTestLab();
    const id = await runningSession(h);
    const other = new Lab(h.deps);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : h.lab).deleteSession(id)));
    await Promise.all([h.lab.idle(), other.idle()]);
    expect(h.cluster.callsOf('deleteSession')).toHaveLength(1);
    expect((await h.store.getSession(id))?.status).toBe('terminated');
  });

  it('a delete while one is under way returns the session as it is and starts nothing', async () => {
    const h = createTestLab();
    const id = await runningSession(h);
    const gate = latch();
    h.cluster.holdWhen = (call) => (call.op === 'deleteSession' ? gate.hold : null);
    await h.lab.deleteSession(id);
    await expect(h.lab.deleteSession(id)).resolves.toMatchObject({ id, status: 'terminating' });
    gate.release();
    await h.lab.idle();
    expect(h.cluster.callsOf('deleteSession')).toHaveLength(1);
  });

  it('a deletion that gave up is retried by a maintenance pass once its deadline has passed', async () => {
    const h = createTestLab();
    const id = await runningSession(h);
    h.cluster.failWhen = (call) => (call.op === 'deleteSession' ? new Error('namespace finalizer stuck') : null);
    await h.lab.deleteSession(id);
    await h.lab.idle();
    expect((await h.store.getSession(id))?.status).toBe('terminating');
    h.cluster.failWhen = null;

    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(h.cluster.callsOf('deleteSession')).toHaveLength(1); // within its deadline it may still be under way elsewhere
    await h.clock.sleep(h.config.deadlines.deleteSession);
    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(h.cluster.callsOf('deleteSession')).toHaveLength(2);
    expect((await h.store.getSession(id))?.status).toBe('terminated');
  });
});

describe('a session ended while it provisions', () => {
  it('its run is cancelled, not failed', async () => {
    const h = createTestLab();
    const session = await h.lab.createSession();
    await h.clock.sleep(30_000);
    await h.lab.deleteSession(session.id);
    await h.lab.idle();
    const detail = await h.lab.getSession(session.id);
    expect(detail.session.status).toBe('terminated');
    expect(detail.run).toMatchObject({ outcome: 'cancelled', failureReason: 'session deleted during provisioning' });
  });
});
