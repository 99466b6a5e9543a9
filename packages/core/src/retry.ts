import { DeadlineError, errorMessage, TransientError } from './errors';
import type { Clock } from './ports';

/**
 * Runs `attempt` until it succeeds, retrying TransientErrors with doubling backoff, and gives up
 * with a DeadlineError at `deadlineAt`. Every other error is final and rethrown at once.
 */
export async function retryUntil<T>(
  clock: Clock,
  deadlineAt: number,
  label: string,
  backoffMs: number,
  attempt: (deadlineAt: number) => Promise<T>,
): Promise<T> {
  let delay = backoffMs;
  for (;;) {
    try {
      return await attempt(deadlineAt);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      const wait = Math.min(delay, Math.max(0, deadlineAt - clock.now()));
      if (wait <= 0 || clock.now() + wait >= deadlineAt) {
        throw new DeadlineError(`${label}: deadline passed while retrying (${errorMessage(error)})`, { cause: error });
      }
      await clock.sleep(wait);
      delay = Math.min(delay * 2, backoffMs * 8);
    }
  }
}
