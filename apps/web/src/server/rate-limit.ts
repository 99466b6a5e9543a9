/**
 * A sliding-window limit per key, in memory: the server is one process (one replica, SQLite), so
 * its memory is the whole truth. Keys with no recent use are dropped as they are seen again.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one use of `key`; when the window is full, says how long until the oldest use leaves it. */
  take(key: string): { ok: true } | { ok: false; retryAfterMs: number } {
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((at) => at > now - this.windowMs);
    if (recent.length >= this.limit) {
      this.hits.set(key, recent);
      return { ok: false, retryAfterMs: recent[0]! + this.windowMs - now };
    }
    recent.push(now);
    this.hits.set(key, recent);
    this.prune(now);
    return { ok: true };
  }

  /** Forgets keys whose uses have all left the window, so memory follows the active learners. */
  private prune(now: number): void {
    if (this.hits.size < 1024) return;
    for (const [key, uses] of this.hits) if (uses.every((at) => at <= now - this.windowMs)) this.hits.delete(key);
  }
}
