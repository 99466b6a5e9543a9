import type { Session } from '@cks-lab/core';
import type { Platform } from './platform';

export interface FlowMeasurement {
  requests: number;
  ms: number;
  /** Duration of each step of the run, by "strategy:step". */
  steps?: Record<string, number>;
}

/**
 * The platform's API requests and wall time per flow of a test file, printed as JSON at its end;
 * `platform` is read at each call (suites start it in beforeAll).
 */
export function flowMeasurements(platform: () => Platform) {
  const measured: Record<string, FlowMeasurement> = {};
  const sessions: Record<string, Session> = {};

  /** Runs `work` and records the platform's requests and time under `name`. */
  async function measure<T>(name: string, work: () => Promise<T>): Promise<T> {
    const requests = platform().kube.api.requestCount;
    const t0 = Date.now();
    const result = await work();
    measured[name] = { requests: platform().kube.api.requestCount - requests, ms: Date.now() - t0 };
    return result;
  }

  /** A new session, provisioned to its end, recorded under `name` with its steps' durations. */
  async function provision(name: string) {
    const { lab } = platform();
    const session = await measure(name, async () => {
      const created = await lab.createSession();
      await lab.idle();
      return created;
    });
    sessions[name] = session;
    const detail = await lab.getSession(session.id);
    measured[name]!.steps = Object.fromEntries(
      detail.steps.map((step) => [`${step.strategy}:${step.name}`, (step.endedAt ?? NaN) - step.startedAt]),
    );
    return detail;
  }

  /** Prints what was measured, if anything. */
  function report(title: string): void {
    if (Object.keys(measured).length) console.log(`${title}: ${JSON.stringify(measured, null, 2)}`);
  }

  return { measure, provision, sessions, report };
}
