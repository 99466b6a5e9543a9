import { describe, expect, it } from 'vitest';
import { NotFoundError } from './errors';
import { createTestLab } from './testing';
import type { Actor, ClusterObjectSummary } from './types';

const alice: Actor = { role: 'learner', userId: 'alice' };
const bob: Actor = { role: 'learner', userId: 'bob' };

describe('Lab.watchSessionObjects', () => {
  it('follows the owner’s session as the cluster changes it, answers another learner as not found, and ends when stopped', async () => {
    const h = createTestLab();
    const session = await h.lab.createSession(alice);
    await expect(h.lab.watchSessionObjects(session.id, bob, () => {})).rejects.toBeInstanceOf(NotFoundError);

    const seen: ClusterObjectSummary[][] = [];
    const stop = await h.lab.watchSessionObjects(session.id, alice, (objects) => seen.push(objects));
    await h.lab.idle();
    const vmPhases = new Set(seen.map((objects) => objects.find((o) => o.kind === 'VirtualMachine')?.phase).filter(Boolean));
    // States in between steps, not only where the run records one.
    expect(vmPhases.size).toBeGreaterThan(1);
    expect(seen.at(-1)).toEqual(await h.lab.sessionObjects(session.id, alice));

    stop();
    const reported = seen.length;
    await h.lab.deleteSession(session.id, alice);
    await h.lab.idle();
    await h.clock.sleep(10_000);
    expect(seen.length).toBe(reported);
  });
});
