import { describe, expect, it } from 'vitest';
import { extendedExpiry, extensionRoom, MIN_EXTENSION_MS } from './extension';

const MIN = 60_000;
const TTL = 60 * MIN;
const NOW = 10_000_000;

describe('extension', () => {
  it('adds one TTL to the expiry, or to now once expired', () => {
    expect(extendedExpiry(NOW + 30 * MIN, NOW, TTL)).toBe(NOW + 90 * MIN);
    expect(extendedExpiry(NOW - 5 * MIN, NOW, TTL)).toBe(NOW + 60 * MIN);
  });

  it('never goes beyond three TTLs ahead', () => {
    expect(extendedExpiry(NOW + 150 * MIN, NOW, TTL)).toBe(NOW + 180 * MIN);
  });

  it('is allowed while it adds at least a minute, refused at the cap with the wait until it would', () => {
    expect(extensionRoom(NOW + 120 * MIN, NOW, TTL)).toEqual({ allowed: true, capMs: 180 * MIN, waitMs: 0 });
    expect(extensionRoom(NOW + 180 * MIN - MIN_EXTENSION_MS, NOW, TTL).allowed).toBe(true);
    expect(extensionRoom(NOW + 180 * MIN, NOW, TTL)).toEqual({ allowed: false, capMs: 180 * MIN, waitMs: MIN_EXTENSION_MS });
    expect(extensionRoom(NOW + 180 * MIN - 20_000, NOW, TTL).waitMs).toBe(40_000);
  });
});
