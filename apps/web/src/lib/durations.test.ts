import { describe, expect, it } from 'vitest';
import { elapsedMs, MEASURED, runTiming, shownMs, shownMsOrNull, timingOf } from './durations';

describe('durations as shown', () => {
  it('on a real cluster are the measured ones, with no note', () => {
    expect(timingOf(null)).toEqual(MEASURED);
    expect(shownMs(MEASURED, 23_456)).toBe(23_456);
  });

  it('on the simulator are the modelled ones: measured ÷ the time scale, with a note saying so', () => {
    const timing = timingOf({ timeScale: 0.05 });
    expect(timing).toMatchObject({ modelled: true, rate: 20 });
    expect(timing.note).toMatch(/^Times are modelled: .* a real cluster would take .*time ×20 faster/);
    // The README's example: a 470 s bootstrap takes 23.5 s at 0.05.
    expect(shownMs(timing, 23_500)).toBe(470_000);
    expect(shownMsOrNull(timing, null)).toBeNull();
    expect(elapsedMs(timing, 1_000, 4_000)).toBe(60_000);
  });

  it('leave a warm claim as measured: it waits on nothing the simulator scales', () => {
    const timing = timingOf({ timeScale: 0.05 });
    expect(runTiming(timing, 'warm')).toEqual(MEASURED);
    expect(runTiming(timing, 'bootstrap')).toBe(timing);
    expect(runTiming(timing, null)).toBe(timing);
  });
});
