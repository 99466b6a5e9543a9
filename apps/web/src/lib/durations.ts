import type { RunStrategy } from '@cks-lab/core';
import { formatTimeScale } from './format';

/**
 * Provisioning durations as users read them. On the simulator every wait lasts the model's latency
 * times SIM_TIME_SCALE, so a measured duration divided by the scale is what the model says a real
 * cluster would take: that modelled time is what pages, the CLI and Prometheus show, with one note
 * that it is modelled. On a real cluster durations are shown as measured.
 *
 * The server converts every recorded duration with `shownMs` before it leaves the API (views,
 * metrics, Prometheus); pages use `elapsedMs` only for a clock that ticks while a step runs.
 * How long a session has been in use is the learner's own time and is never converted, nor is a
 * claim from the warm pool (`runTiming`).
 */
export interface Timing {
  modelled: boolean;
  /** Shown milliseconds per measured millisecond: 1 / SIM_TIME_SCALE on the simulator, 1 on a cluster. */
  rate: number;
  /** The sentence said once wherever modelled times appear; null when times are measured. */
  note: string | null;
}

export const MEASURED: Timing = { modelled: false, rate: 1, note: null };

export function timingOf(simulation: { timeScale: number } | null): Timing {
  if (!simulation) return MEASURED;
  return {
    modelled: true,
    rate: 1 / simulation.timeScale,
    note: `Times are modelled: what the simulator's latency model says a real cluster would take (the simulator itself runs ${formatTimeScale(simulation.timeScale)}).`,
  };
}

/** A warm claim is one database transaction, no simulated wait: it is shown as measured. */
export function runTiming(timing: Timing, strategy: RunStrategy | null): Timing {
  return strategy === 'warm' ? MEASURED : timing;
}

/** A measured duration as shown (whole milliseconds). */
export function shownMs(timing: Pick<Timing, 'rate'>, measuredMs: number): number {
  return Math.round(measuredMs * timing.rate);
}

export function shownMsOrNull(timing: Pick<Timing, 'rate'>, measuredMs: number | null): number | null {
  return measuredMs === null ? null : shownMs(timing, measuredMs);
}

/** Time since `since` (epoch ms) as shown, for a clock that ticks while something runs. */
export function elapsedMs(timing: Pick<Timing, 'rate'>, since: number, now: number): number {
  return shownMs(timing, now - since);
}
