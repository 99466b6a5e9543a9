import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime, type Runtime } from '../../apps/web/src/server/runtime';

/**
 * Issue 2, "done when" 5: under each simulator fault a new session still reaches running (by
 * bootstrap where the snapshot path failed) with the reason recorded, and nothing of the failed
 * attempt remains in the cluster. Runs the real runtime (SQLite, simulator, orchestrator) fast.
 */
const runtimes: Array<{ runtime: Runtime; dir: string }> = [];

/** The real runtime on the simulator with `faults`, over the data (and simulated cluster) in `dir`. */
async function start(faults: string, dir = mkdtempSync(join(tmpdir(), 'cks-lab-faults-'))): Promise<Runtime> {
  process.env.LOG_LEVEL = 'silent';
  const config = readServerConfig({
    SIM_TIME_SCALE: '0.004',
    SIM_FAULTS: faults,
    LAB_DATA_DIR: dir,
    ADMIN_TOKEN: 'fault-test-admin-token',
    // No warm pool: the faults are injected into the snapshot and bootstrap paths themselves.
    WARM_POOL_SIZE: '0',
  });
  const runtime = await createRuntime(config, { maintenance: false });
  runtimes.push({ runtime, dir });
  return runtime;
}

afterEach(async () => {
  for (const { runtime, dir } of runtimes.splice(0)) {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function provision(runtime: Runtime) {
  const session = await runtime.lab.createSession();
  await runtime.lab.idle();
  return runtime.lab.getSession(session.id);
}

/** A golden image built without faults, then the faulty runtime over the same data and cluster state. */
async function withGoldenImage(faults: string): Promise<Runtime> {
  const clean = await start('');
  const source = await provision(clean);
  await clean.lab.createGolden(source.session.id);
  await clean.lab.idle();
  expect((await clean.lab.goldenStatus()).status).toBe('ready');
  const dir = runtimes.at(-1)!.dir;
  await clean.close();
  runtimes.pop();
  return start(faults, dir);
}

function kinds(objects: Array<{ kind: string; name: string }>) {
  return objects.map((o) => `${o.kind}/${o.name}`).sort();
}

describe('simulator faults', { timeout: 120_000 }, () => {
  // clone-fail plays what ends a clone for good on the real CDI v1.64.0: its source gone, the
  // DataVolume's Bound condition CloneWithoutSource (pkg/controller/datavolume/pvc-clone-controller.go
  // validateCloneAndSourcePVC); CDI never marks a clone DataVolume Failed
  // (pkg/controller/datavolume/clone-controller-base.go updateStatusPhaseForPopulator).
  for (const fault of ['clone-fail', 'stuck-clone']) {
    it(`${fault}: the session falls back to bootstrap, records why, and keeps only the bootstrap VMs`, async () => {
      const runtime = await withGoldenImage(fault);
      const detail = await provision(runtime);
      expect(detail.session.status, JSON.stringify(detail.run)).toBe('running');
      expect(detail.run?.requestedStrategy).toBe('snapshot');
      expect(detail.run?.usedStrategy).toBe('bootstrap');
      expect(detail.run?.fallbackReason).toBe('snapshot-path-failed');
      expect(detail.run?.fallbackDetail).toMatch(fault === 'clone-fail' ? /CloneWithoutSource/ : /deadline passed/);
      expect(detail.steps.map((s) => `${s.strategy}:${s.name}:${s.outcome}`)).toContain('snapshot:remove-failed-attempt:succeeded');
      const objects = await runtime.lab.sessionObjects(detail.session.id);
      // Exactly the two bootstrap VMs with their disks: nothing of the failed clone is left.
      expect(kinds(objects).filter((k) => k.startsWith('VirtualMachine/'))).toHaveLength(2);
      expect(objects.filter((o) => o.kind === 'DataVolume').every((o) => o.phase.startsWith('Succeeded'))).toBe(true);
      expect(objects.filter((o) => o.kind === 'DataVolume')).toHaveLength(2);
    });
  }

  for (const fault of ['partial-snapshot', 'golden-copy-fail']) {
    it(`${fault}: the golden build fails with its reason, the source keeps running, new sessions bootstrap`, async () => {
      const runtime = await start(fault);
      const source = await provision(runtime);
      expect(source.session.status).toBe('running');
      await runtime.lab.createGolden(source.session.id);
      await runtime.lab.idle();
      const golden = await runtime.lab.goldenStatus();
      expect(golden.status).toBe('failed');
      expect(golden.image?.failureReason).toMatch(fault === 'partial-snapshot' ? /excluded volume/ : /DataVolume failed/);
      expect(golden.activeStrategy).toBe('bootstrap');
      expect((await runtime.lab.getSession(source.session.id)).session.status).toBe('running');
      const vms = (await runtime.lab.sessionObjects(source.session.id)).filter((o) => o.kind === 'VirtualMachine');
      expect(vms.map((vm) => vm.phase)).toEqual(['Ready', 'Ready']);
      expect(golden.disks.every((disk) => disk.phase === 'Missing')).toBe(true);
      const next = await provision(runtime);
      expect(next.session.status).toBe('running');
      expect(next.run?.usedStrategy).toBe('bootstrap');
      expect(next.run?.fallbackReason).toBe('golden-build-failed');
      expect(next.run?.fallbackDetail).toContain(golden.image?.failureReason ?? 'no failure recorded');
    });
  }

  it('api-error: sessions and the golden image survive HTTP 500s on a share of the calls', async () => {
    const runtime = await start('api-error');
    const first = await provision(runtime);
    expect(first.session.status).toBe('running');
    await runtime.lab.createGolden(first.session.id);
    await runtime.lab.idle();
    const golden = await runtime.lab.goldenStatus();
    expect(golden.status, golden.image?.failureReason ?? '').toBe('ready');
    const second = await provision(runtime);
    expect(second.session.status).toBe('running');
    expect(second.run?.usedStrategy).toBe('snapshot');
    await runtime.lab.deleteSession(second.session.id);
    await runtime.lab.idle();
    expect((await runtime.lab.getSession(second.session.id)).session.status).toBe('terminated');
  });
});
