import { describe, expect, it } from 'vitest';
import { ClusterFailure, DeadlineError, TransientError } from './errors';
import { retryUntil } from './retry';
import { TestClock } from './testing';

/** An attempt that fails with `errors` in turn, then returns 'ok'. */
function failing(clock: TestClock, errors: Error[]) {
  const calls: number[] = [];
  const attempt = async (deadlineAt: number) => {
    calls.push(clock.now());
    expect(deadlineAt).toBeGreaterThan(0);
    const error = errors.shift();
    if (error) throw error;
    return 'ok';
  };
  return { calls, attempt };
}

describe('retryUntil', () => {
  it('returns at once when the first attempt succeeds', async () => {
    const clock = new TestClock();
    const { calls, attempt } = failing(clock, []);
    await expect(retryUntil(clock, clock.now() + 1000, 'x', 100, attempt)).resolves.toBe('ok');
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('retries transient errors with doubling backoff capped at 8x, then succeeds', async () => {
    const clock = new TestClock();
    const start = clock.now();
    const errors = Array.from({ length: 6 }, (_, i) => new TransientError(`503 #${i}`));
    const { calls, attempt } = failing(clock, errors);
    await expect(retryUntil(clock, start + 60_000, 'x', 500, attempt)).resolves.toBe('ok');
    expect(calls).toHaveLength(7);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    expect(calls.map((t) => t - start)).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500]);
  });

  it('passes the same deadline to every attempt', async () => {
    const clock = new TestClock();
    const seen: number[] = [];
    const deadline = clock.now() + 10_000;
    let n = 0;
    await retryUntil(clock, deadline, 'x', 100, async (at) => {
      seen.push(at);
      if (n++ < 2) throw new TransientError('again');
    });
    expect(seen).toEqual([deadline, deadline, deadline]);
  });

  it('gives up with a DeadlineError (carrying the last transient error) when the deadline passes', async () => {
    const clock = new TestClock();
    const start = clock.now();
    let attempts = 0;
    const error = await retryUntil(clock, start + 3000, 'wait-disks', 500, async () => {
      attempts++;
      throw new TransientError('HTTP 503');
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/wait-disks: deadline passed while retrying \(HTTP 503\)/);
    expect((error as Error).cause).toBeInstanceOf(TransientError);
    expect(attempts).toBe(3); // at 0, 500, 1500; the next retry (at 3500) would pass the deadline
    expect(clock.now() - start).toBeLessThanOrEqual(3000);
  });

  it('treats every other error as final: no retry, rethrown as is', async () => {
    const clock = new TestClock();
    const failure = new ClusterFailure('clone failed');
    const { calls, attempt } = failing(clock, [failure]);
    await expect(retryUntil(clock, clock.now() + 60_000, 'x', 500, attempt)).rejects.toBe(failure);
    expect(calls).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry a DeadlineError thrown by the attempt itself', async () => {
    const clock = new TestClock();
    const deadline = new DeadlineError('watch deadline');
    const { calls, attempt } = failing(clock, [deadline]);
    await expect(retryUntil(clock, clock.now() + 60_000, 'x', 500, attempt)).rejects.toBe(deadline);
    expect(calls).toHaveLength(1);
  });
});
