import { describe, expect, it } from 'vitest';
import { TransientError } from './errors';
import { createTestLab, type FakeCall, type FakeOp, type TestLab } from './testing';
import { type GoldenImage, ROLES } from './types';

/** A failed golden build's cleanup is a recorded, retried step; and each call of a build is retried on its own. */

const S = 1000;

async function runningSession(h: TestLab): Promise<string> {
  const session = await h.lab.createSession();
  await h.lab.idle();
  return session.id;
}

async function build(h: TestLab, sessionId: string): Promise<GoldenImage> {
  const image = await h.lab.createGolden(sessionId);
  await h.lab.idle();
  return (await h.store.getGolden(image.version))!;
}

const vmSnapshots = (h: TestLab, sessionId: string) => h.cluster.objectsOf(sessionId).filter((o) => o.kind === 'VirtualMachineSnapshot');

async function sourceReady(h: TestLab, sessionId: string): Promise<void> {
  for (const role of ROLES) expect(h.cluster.vm(sessionId, role)?.runStrategy).toBe('Always');
  await expect(h.cluster.waitVms(sessionId, ROLES, 'ready', h.clock.now() + 10 * 60 * S)).resolves.toBeUndefined();
}

/** Every other call of `ops` fails with a 503: no attempt of several such calls in a row gets through. */
function everyOtherCallFails(h: TestLab, ops: readonly FakeOp[]): void {
  let n = 0;
  h.cluster.failWhen = (call: FakeCall) =>
    ops.includes(call.op) && n++ % 2 === 1 ? new TransientError(`${call.op}: HTTP 503 (simulated)`) : null;
}

describe('transient errors within a build phase', () => {
  it('each call is retried on its own: a phase of several calls completes although every other call fails', async () => {
    const h = createTestLab();
    const source = await runningSession(h);
    everyOtherCallFails(h, ['ensureVmSnapshot', 'waitVmSnapshot', 'ensureGoldenCopy', 'waitGoldenCopies', 'setRunStrategy', 'waitVms']);
    const image = await build(h, source);
    expect(image, image.failureReason ?? '').toMatchObject({ status: 'ready', phase: 'done' });
    expect(h.cluster.calls.filter((c) => c.error !== null).length).toBeGreaterThan(5);
    expect(vmSnapshots(h, source)).toEqual([]);
  });
});

describe('cleanup of a failed build', () => {
  it('a transient error while removing the snapshots is retried: none is left, the record says the cleanup is done', async () => {
    const h = createTestLab({ cluster: { partialSnapshot: true } });
    const source = await runningSession(h);
    let failed = false;
    h.cluster.failWhen = (call) => {
      if (call.op !== 'deleteVmSnapshots' || failed) return null;
      failed = true;
      return new TransientError('deleteVmSnapshots: HTTP 500 (simulated)');
    };
    const image = await build(h, source);
    expect(failed).toBe(true);
    expect(image).toMatchObject({ status: 'failed', phase: 'done' });
    expect(image.failureReason).toMatch(/^snapshot-vms: /);
    expect(vmSnapshots(h, source)).toEqual([]);
    expect(h.cluster.goldenObjects()).toEqual([]);
    await sourceReady(h, source);
  });

  it('a crash during the cleanup: the next start resumes it, the source runs and nothing of the version is left', async () => {
    const h = createTestLab({ cluster: { partialSnapshot: true } });
    const source = await runningSession(h);
    let crashed!: () => void;
    const died = new Promise<void>((resolve) => (crashed = resolve));
    h.cluster.freezeWhen = (call) => {
      const hit = call.op === 'deleteVmSnapshots';
      if (hit) crashed();
      return hit;
    };
    void h.lab.createGolden(source);
    await died;
    expect(await h.store.getGolden(1)).toMatchObject({ status: 'failed', phase: 'snapshot-vms' });
    expect(vmSnapshots(h, source)).toHaveLength(2);

    h.cluster.freezeWhen = null;
    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.store.getGolden(1)).toMatchObject({ status: 'failed', phase: 'done' });
    expect(vmSnapshots(h, source)).toEqual([]);
    expect(h.cluster.goldenObjects()).toEqual([]);
    await sourceReady(h, source);
    expect(restarted.logger.entries.map((e) => e.message)).toContain('resuming the cleanup of a failed golden build');
  });

  it('an outage longer than the deadline leaves the cleanup pending; a maintenance pass completes it', async () => {
    const h = createTestLab({ cluster: { partialSnapshot: true } });
    const source = await runningSession(h);
    h.cluster.failWhen = (call) => (call.op === 'deleteVmSnapshots' ? new TransientError('deleteVmSnapshots: HTTP 503 (simulated)') : null);
    const image = await build(h, source);
    expect(image).toMatchObject({ status: 'failed', phase: 'snapshot-vms' });
    expect(vmSnapshots(h, source)).toHaveLength(2);
    expect(h.logger.at('error').map((e) => e.message)).toContain(
      'cleanup of a failed golden build incomplete; the next maintenance pass or start resumes it',
    );

    h.cluster.failWhen = null;
    await h.lab.maintainOnce();
    await h.lab.idle();
    expect(await h.store.getGolden(1)).toMatchObject({ status: 'failed', phase: 'done' });
    expect(vmSnapshots(h, source)).toEqual([]);
  });

  it('the source ended after the failure: its cleanup restarts nothing and still completes', async () => {
    const h = createTestLab({ cluster: { partialSnapshot: true } });
    const source = await runningSession(h);
    h.cluster.failWhen = (call) => (call.op === 'deleteVmSnapshots' ? new TransientError('deleteVmSnapshots: HTTP 503 (simulated)') : null);
    await build(h, source);
    await h.lab.deleteSession(source);
    await h.lab.idle();
    h.cluster.failWhen = null;
    const restarts = h.cluster.calls.filter((c) => c.op === 'setRunStrategy' && c.args[2] === 'Always').length;

    const restarted = h.restart();
    await restarted.lab.start();
    await restarted.lab.idle();
    expect(await restarted.store.getGolden(1)).toMatchObject({ status: 'failed', phase: 'done' });
    expect(h.cluster.calls.filter((c) => c.op === 'setRunStrategy' && c.args[2] === 'Always')).toHaveLength(restarts);
    expect(h.cluster.objectsOf(source)).toEqual([]);
  });
});
