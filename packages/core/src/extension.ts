/**
 * How far a session may be extended. Extending is for finishing the work at hand, not for parking a
 * cluster: a session runs at most three TTLs ahead of now.
 */
export const MAX_TTLS_AHEAD = 3;

/** Less room than this under the cap is no extension worth a click: extending is refused until there is more. */
export const MIN_EXTENSION_MS = 60_000;

export interface ExtensionRoom {
  allowed: boolean;
  /** The furthest ahead a session may run, in ms (three TTLs). */
  capMs: number;
  /** When not allowed: how long until an extension adds at least `MIN_EXTENSION_MS`. */
  waitMs: number;
}

/** Whether extending now adds anything, and if not, when it will again. */
export function extensionRoom(expiresAt: number, now: number, ttlMs: number): ExtensionRoom {
  const capMs = MAX_TTLS_AHEAD * ttlMs;
  const roomMs = now + capMs - expiresAt;
  return { allowed: roomMs >= MIN_EXTENSION_MS, capMs, waitMs: Math.max(MIN_EXTENSION_MS - roomMs, 0) };
}

/** One TTL from now or from the current expiry, whichever is later, within the cap. */
export function extendedExpiry(expiresAt: number, now: number, ttlMs: number): number {
  return Math.min(Math.max(expiresAt, now) + ttlMs, now + MAX_TTLS_AHEAD * ttlMs);
}
