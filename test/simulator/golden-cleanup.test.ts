import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, names } from '@cks-lab/core';
import { openDatabase } from '@cks-lab/db';
import { R, startSimulatedCluster } from '@cks-lab/kubevirt';
import { afterAll, describe, expect, it } from 'vitest';
import { readServerConfig, type ServerConfig } from '../../apps/web/src/server/config';
import { createRuntime } from '../../apps/web/src/server/runtime';
import { spawnLabProcess } from './lab-process-control';

/**
 * Issue 10: a failed golden build's cleanup is a resumable, retried step. The builds fail by the
 * simulator's `partial-snapshot` fault after both VirtualMachineSnapshots exist; neither a kill -9
 * during the cleanup nor API errors during it may leave them behind. Real runtime, SQLite, simulator.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function environment(faults: string, timeScale: string): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cks-lab-golden-cleanup-'));
  dirs.push(dir);
  return {
    LAB_DATA_DIR: dir,
    SIM_TIME_SCALE: timeScale,
    SIM_FAULTS: faults,
    WARM_POOL_SIZE: '0',
    ADMIN_TOKEN: 'golden-cleanup-admin-token',
    LOG_LEVEL: 'silent',
  };
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** What the simulated cluster holds, read from its journal once the server is gone. */
async function vmSnapshotsIn(config: ServerConfig): Promise<string[]> {
  const sim = await startSimulatedCluster({ ...config.sim, settings: config.settings, faults: new Set(), logger: quiet });
  try {
    return (await sim.api.list(R.vmSnapshot)).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  } finally {
    sim.stop();
  }
}

describe('cleanup of a failed golden build', { timeout: 180_000 }, () => {
  it('API errors during the cleanups leave no VirtualMachineSnapshot and the source running', async () => {
    const env = environment('partial-snapshot,api-error', '0.004');
    process.env.LOG_LEVEL = 'silent';
    const config = readServerConfig(env);
    const runtime = await createRuntime(config, { maintenance: false });
    let source = '';
    try {
      source = (await runtime.lab.createSession()).id;
      await runtime.lab.idle();
      expect((await runtime.lab.getSession(source)).session.status).toBe('running');
      // Each failed build's cleanup removes two snapshots: a dozen builds make a few dozen calls that may fail.
      for (let i = 0; i < 12; i++) {
        const image = await runtime.lab.createGolden(source, true);
        await runtime.lab.idle();
        const after = await runtime.database.store.getGolden(image.version);
        expect(after?.failureReason).toMatch(/excluded volume/);
        expect(after).toMatchObject({ status: 'failed', phase: 'done' });
      }
      const vms = (await runtime.lab.sessionObjects(source)).filter((o) => o.kind === 'VirtualMachine');
      expect(vms.map((vm) => vm.phase)).toEqual(['Ready', 'Ready']);
    } finally {
      await runtime.close();
    }
    expect(await vmSnapshotsIn(config)).toEqual([]);
  });

  it('a kill -9 during the cleanup: the next start finishes it', async () => {
    // A slower scale than the other tests: restarting the source (the cleanup's first action) takes 1.3 s.
    const env = environment('partial-snapshot', '0.02');
    const config = readServerConfig(env);
    // Provisioned fast; only the build runs at the slower scale.
    const setup = await createRuntime(readServerConfig({ ...env, SIM_TIME_SCALE: '0.004' }), { maintenance: false });
    const source = (await setup.lab.createSession()).id;
    await setup.lab.idle();
    expect((await setup.lab.getSession(source)).session.status).toBe('running');
    await setup.close();

    const child = spawnLabProcess({ ...process.env, ...env }, ['golden', source]);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed as soon as the build is recorded failed: its cleanup has begun and not yet removed the snapshots.
    const database = openDatabase(config.databaseUrl);
    try {
      const deadline = Date.now() + 60_000;
      while ((await database.store.getGolden(1))?.status !== 'failed') {
        if (Date.now() > deadline) throw new Error('the build was not recorded failed within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
      database.close();
    }
    expect(await vmSnapshotsIn(config)).toEqual(
      [names.goldenSnapshot('control-plane', 1), names.goldenSnapshot('worker', 1)].map((n) => `${names.namespace(source)}/${n}`),
    );

    const runtime = await createRuntime(config, { maintenance: false });
    try {
      await runtime.lab.idle();
      expect(await runtime.database.store.getGolden(1)).toMatchObject({ status: 'failed', phase: 'done' });
      const vms = (await runtime.lab.sessionObjects(source)).filter((o) => o.kind === 'VirtualMachine');
      expect(vms.map((vm) => vm.phase)).toEqual(['Ready', 'Ready']);
    } finally {
      await runtime.close();
    }
    expect(await vmSnapshotsIn(config)).toEqual([]);
  });
});
