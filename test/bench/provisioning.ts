/**
 * Provisioning benchmark on the simulator: N sessions at once by bootstrap, a golden image, then N
 * sessions at once by snapshot. Prints JSON: time-to-ready per strategy (wall and model time), the
 * orchestration overhead beyond the modelled critical path, and the platform's API requests per session.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize, type Strategy } from '@cks-lab/core';
import { DEFAULT_LATENCY_MODEL, modelledTimeToReady } from '@cks-lab/kubevirt';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime, type Runtime } from '../../apps/web/src/server/runtime';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 50);
const TIME_SCALE = Number(process.env.BENCH_TIME_SCALE ?? 0.01);

async function provisionBatch(runtime: Runtime, expected: Strategy) {
  const before = runtime.apiRequests();
  const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => runtime.lab.createSession()));
  await runtime.lab.idle();
  const details = await Promise.all(sessions.map((s) => runtime.lab.getSession(s.id)));
  const failed = details.filter((d) => d.session.status !== 'running' || d.run?.usedStrategy !== expected);
  if (failed.length > 0) {
    throw new Error(`${failed.length} sessions did not reach running by ${expected}: ${failed.map((d) => `${d.session.id} ${d.session.status} ${d.run?.fallbackDetail ?? d.session.failureReason ?? ''}`).join('; ')}`);
  }
  return { details, requests: runtime.apiRequests() - before };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cks-lab-bench-'));
  process.env.LOG_LEVEL ??= 'warn';
  const config = readServerConfig({
    SIM_TIME_SCALE: String(TIME_SCALE),
    LAB_DATA_DIR: dataDir,
    MAX_CONCURRENT_SESSIONS: String(SESSIONS * 2 + 1),
    ADMIN_TOKEN: 'bench-admin-token-0123456789',
    // Measures the snapshot and bootstrap paths themselves.
    WARM_POOL_SIZE: '0',
  });
  const runtime = await createRuntime(config, { maintenance: false });
  try {
    const started = Date.now();
    const bootstrap = await provisionBatch(runtime, 'bootstrap');
    const source = bootstrap.details[0]!.session.id;
    await runtime.lab.createGolden(source);
    await runtime.lab.idle();
    const golden = await runtime.lab.goldenStatus();
    if (golden.status !== 'ready') throw new Error(`golden image not ready: ${golden.image?.failureReason ?? golden.status}`);
    const snapshot = await provisionBatch(runtime, 'snapshot');

    const model = modelledTimeToReady(DEFAULT_LATENCY_MODEL);
    const report = (batch: Awaited<ReturnType<typeof provisionBatch>>, modelSeconds: number) => {
      const times = batch.details.map((d) => d.timeToReadyMs ?? Number.NaN);
      const critical = modelSeconds * 1000 * TIME_SCALE;
      const wall = summarize(times);
      const overhead = summarize(times.map((t) => t - critical));
      return {
        sessions: batch.details.length,
        timeToReadyMs: { p50: wall.p50, p95: wall.p95 },
        timeToReadyModelSeconds: { p50: (wall.p50 ?? 0) / 1000 / TIME_SCALE, p95: (wall.p95 ?? 0) / 1000 / TIME_SCALE },
        modelledCriticalPathMs: critical,
        overheadMs: { p50: overhead.p50, p95: overhead.p95 },
        apiRequestsPerSession: Math.round((batch.requests / batch.details.length) * 10) / 10,
      };
    };
    const snapshotReport = report(snapshot, model.snapshot);
    const bootstrapReport = report(bootstrap, model.bootstrap);
    console.log(
      JSON.stringify(
        {
          benchmark: 'provisioning',
          cluster: 'simulated',
          timeScale: TIME_SCALE,
          concurrentSessions: SESSIONS,
          strategies: { bootstrap: bootstrapReport, snapshot: snapshotReport },
          snapshotShareOfBootstrap: (snapshotReport.timeToReadyMs.p50 ?? 0) / (bootstrapReport.timeToReadyMs.p50 ?? 1),
          wallSeconds: (Date.now() - started) / 1000,
        },
        null,
        2,
      ),
    );
  } finally {
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
