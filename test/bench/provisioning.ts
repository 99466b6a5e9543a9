/**
 * Provisioning benchmark: N sessions at once by bootstrap, a golden image, then N sessions at once
 * by snapshot, through cks-lab's Lab. `--cluster sim` (default) runs the embedded simulator;
 * `--cluster kube` a real kube-apiserver with the integration tier's simulated controllers. Prints
 * JSON: time-to-ready per strategy (wall and model time), the orchestration overhead beyond the
 * modelled critical path, cks-lab's API requests per session, its CPU and memory, and (kube) the API
 * server's request latencies as it reports them.
 */
import { cpus } from 'node:os';
import { type Strategy, summarize } from '@cks-lab/core';
import { DEFAULT_LATENCY_MODEL, modelledTimeToReady } from '@cks-lab/kubevirt';
import { type BenchTarget, kubeTarget, simulatedTarget } from './bench-target';
import { trackProcessUsage } from './process-usage';

function option(name: string): string | undefined {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : undefined;
}

const CLUSTER = option('cluster') ?? 'sim';
if (CLUSTER !== 'sim' && CLUSTER !== 'kube') throw new Error(`--cluster must be sim or kube, not ${CLUSTER}`);
const SESSIONS = Number(option('sessions') ?? process.env.BENCH_SESSIONS ?? (CLUSTER === 'kube' ? 100 : 50));
const TIME_SCALE = Number(option('time-scale') ?? process.env.BENCH_TIME_SCALE ?? 0.01);

async function provisionBatch(target: BenchTarget, expected: Strategy) {
  await target.beginBatch();
  const before = target.apiRequests();
  const usage = trackProcessUsage();
  const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => target.lab.createSession()));
  await target.lab.idle();
  const cksLabProcess = usage.stop();
  const requests = target.apiRequests() - before;
  const cluster = await target.batchReport();
  const details = await Promise.all(sessions.map((s) => target.lab.getSession(s.id)));
  const failed = details.filter((d) => d.session.status !== 'running' || d.run?.usedStrategy !== expected);
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} sessions did not reach running by ${expected}: ${failed.map((d) => `${d.session.id} ${d.session.status} ${d.run?.fallbackDetail ?? d.session.failureReason ?? ''}`).join('; ')}`,
    );
  }
  return { details, requests, cksLabProcess, cluster };
}

function report(batch: Awaited<ReturnType<typeof provisionBatch>>, modelSeconds: number) {
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
    stepMsP50: stepMedians(batch.details),
    apiRequestsPerSession: Math.round((batch.requests / batch.details.length) * 10) / 10,
    // The simulated controllers run in this process too: their work is in these figures.
    process: batch.cksLabProcess,
    ...batch.cluster,
  };
}

/** Median duration of each step, to see where the time beyond the model goes. */
function stepMedians(details: Awaited<ReturnType<typeof provisionBatch>>['details']): Record<string, number | null> {
  const byStep = new Map<string, number[]>();
  for (const step of details.flatMap((d) => d.steps)) {
    const key = `${step.strategy}:${step.name}`;
    byStep.set(key, [...(byStep.get(key) ?? []), (step.endedAt ?? Number.NaN) - step.startedAt]);
  }
  return Object.fromEntries([...byStep].map(([key, durations]) => [key, summarize(durations).p50]));
}

async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  const target = CLUSTER === 'kube' ? await kubeTarget(SESSIONS, TIME_SCALE) : await simulatedTarget(SESSIONS, TIME_SCALE);
  try {
    const started = Date.now();
    const bootstrap = await provisionBatch(target, 'bootstrap');
    await target.lab.createGolden(bootstrap.details[0]!.session.id);
    await target.lab.idle();
    const golden = await target.lab.goldenStatus();
    if (golden.status !== 'ready') throw new Error(`golden image not ready: ${golden.image?.failureReason ?? golden.status}`);
    const snapshot = await provisionBatch(target, 'snapshot');

    const model = modelledTimeToReady(DEFAULT_LATENCY_MODEL);
    const snapshotReport = report(snapshot, model.snapshot);
    const bootstrapReport = report(bootstrap, model.bootstrap);
    console.log(
      JSON.stringify(
        {
          benchmark: 'provisioning',
          cluster: target.cluster,
          ...target.describe,
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
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
    await target.close();
  }
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
