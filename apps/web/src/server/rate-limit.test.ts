import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit';

describe('RateLimiter', () => {
  it('allows `limit` uses per window and key, and says when the next one is allowed', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 60_000, () => now);
    expect(limiter.take('alice')).toEqual({ ok: true });
    now = 10_000;
    expect(limiter.take('alice')).toEqual({ ok: true });
    expect(limiter.take('bob')).toEqual({ ok: true });
    expect(limiter.take('alice')).toEqual({ ok: false, retryAfterMs: 50_000 });
    now = 60_001;
    expect(limiter.take('alice')).toEqual({ ok: true });
    expect(limiter.take('alice')).toEqual({ ok: false, retryAfterMs: 9_999 });
  });
});
