import type { Clock } from '../ports';

/** 2025-01-01T00:00:00Z: a fixed start so tests are reproducible. */
export const TEST_EPOCH = Date.UTC(2025, 0, 1);

interface Sleeper {
  at: number;
  seq: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface TestClockOptions {
  /** Virtual start time (epoch ms). Default TEST_EPOCH. */
  start?: number;
  /**
   * When true (default) virtual time jumps to the earliest sleeper as soon as every piece of
   * in-memory work is blocked on the clock; when false time moves only through `advance`.
   */
  autoAdvance?: boolean;
}

/**
 * A virtual clock for tests of pure, in-memory code (core with the memory fakes).
 *
 * Time is virtual and runs as fast as the CPU allows: when all work is waiting on `sleep`
 * (detected with `setImmediate`, which Node runs only once every pending microtask has run),
 * the clock jumps to the earliest wake-up time and wakes those sleepers, in the order they went
 * to sleep. Realistic durations (the modelled minutes) therefore cost microseconds, step
 * durations are exact, and concurrent flows interleave the same way on every run.
 *
 * The test itself takes part in virtual time: `await clock.sleep(30_000)` lets background work
 * run for 30 virtual seconds. `advance(ms)` instead jumps the clock at once (a machine waking from
 * suspend); sleepers due by then wake late, on the next tick.
 *
 * Not for code that waits on real I/O or real timers: it would see time fly while it waits.
 * A loop polling with `sleep(0)` holds virtual time still (something is always due now); poll
 * with a positive interval.
 */
export class TestClock implements Clock {
  private current: number;
  private sleepers: Sleeper[] = [];
  private seq = 0;
  private scheduled = false;
  autoAdvance: boolean;
  /** Every sleep requested, in ms (tests of backoff read it). */
  readonly sleeps: number[] = [];

  constructor(options: TestClockOptions = {}) {
    this.current = options.start ?? TEST_EPOCH;
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.current;
  }

  /** Sleeps `ms` of virtual time; with a signal, rejects with its reason as soon as it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        sleeper.onAbort = () => {
          this.sleepers = this.sleepers.filter((s) => s !== sleeper);
          reject(signal.reason);
        };
        signal.addEventListener('abort', sleeper.onAbort, { once: true });
      }
      this.sleepers.push(sleeper);
      this.schedule();
    });
  }

  /** Jumps the clock forward at once; sleepers now due wake on the next tick. */
  advance(ms: number): void {
    this.current += Math.max(0, ms);
    this.schedule();
  }

  /** Number of sleepers waiting. */
  get pending(): number {
    return this.sleepers.length;
  }

  /** Lets every pending microtask and due sleeper run without moving virtual time (when not auto-advancing). */
  async flush(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.sleepers.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.tick());
  }

  private tick(): void {
    this.scheduled = false;
    if (this.sleepers.length === 0) return;
    const earliest = Math.min(...this.sleepers.map((s) => s.at));
    if (earliest > this.current) {
      if (!this.autoAdvance) return;
      this.current = earliest;
    }
    const due = this.sleepers.filter((s) => s.at <= this.current).sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.sleepers = this.sleepers.filter((s) => s.at > this.current);
    for (const sleeper of due) {
      if (sleeper.signal && sleeper.onAbort) sleeper.signal.removeEventListener('abort', sleeper.onAbort);
      sleeper.resolve();
    }
    this.schedule();
  }
}
