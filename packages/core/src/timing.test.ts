import { describe, expect, it } from 'vitest';
import { improvement, percentile, summarize } from './timing';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('percentile (nearest rank)', () => {
  it('is null for no data', () => {
    expect(percentile([], 50)).toBeNull();
  });

  it('picks the value at rank ceil(p/100 * n)', () => {
    expect(percentile(range(10), 50)).toBe(5);
    expect(percentile(range(10), 95)).toBe(10); // ceil(9.5) = 10
    expect(percentile(range(20), 95)).toBe(19); // ceil(19) = 19
    expect(percentile(range(100), 95)).toBe(95);
    expect(percentile(range(101), 50)).toBe(51);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 95)).toBe(7);
  });

  it('never interpolates and stays within the data', () => {
    expect(percentile([10, 20], 50)).toBe(10);
    expect(percentile([10, 20], 51)).toBe(20);
    expect(percentile([10, 20, 30], 0)).toBe(10);
    expect(percentile([10, 20, 30], 100)).toBe(30);
  });
});

describe('summarize', () => {
  it('sorts, then reports count, p50, p95 and mean', () => {
    expect(summarize([300, 100, 200, 400])).toEqual({ count: 4, p50: 200, p95: 400, mean: 250 });
    expect(summarize([])).toEqual({ count: 0, p50: null, p95: null, mean: null });
  });

  it('does not reorder its input', () => {
    const input = [3, 1, 2];
    summarize(input);
    expect(input).toEqual([3, 1, 2]);
  });
});

describe('improvement', () => {
  it('is the fraction of bootstrap time snapshot saves', () => {
    expect(improvement(60_000, 600_000)).toBeCloseTo(0.9);
    expect(improvement(75_000, 445_000)).toBeCloseTo(1 - 75 / 445);
    expect(improvement(600_000, 600_000)).toBe(0);
    expect(improvement(900_000, 600_000)).toBeCloseTo(-0.5); // slower snapshot shows as negative
  });

  it('is null without both numbers or with a non-positive bootstrap time', () => {
    expect(improvement(null, 600_000)).toBeNull();
    expect(improvement(60_000, null)).toBeNull();
    expect(improvement(60_000, 0)).toBeNull();
  });
});
