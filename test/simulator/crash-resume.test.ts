import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readServerConfig } from '../../apps/web/src/server/config';
import { createRuntime, type Runtime } from '../../apps/web/src/server/runtime';
import { runThenKill } from './lab-process-control';

/**
 * Issue 2, "done when" 6: kill -9 of the server in the middle of a provisioning and of a golden
 * image build; a new start completes the work with no duplicated objects and consistent records.
 * The server is a real separate process (SQLite file + simulator journal on disk), killed with SIGKILL.
 */
const dir = mkdtempSync(join(tmpdir(), 'cks-lab-crash-'));
// No warm pool: these runs test the snapshot and bootstrap paths themselves.
const env = {
  ...process.env,
  LAB_DATA_DIR: dir,
  SIM_TIME_SCALE: '0.01',
  WARM_POOL_SIZE: '0',
  ADMIN_TOKEN: 'crash-test-admin-token',
  LOG_LEVEL: 'silent',
};

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function restart(): Promise<Runtime> {
  return createRuntime(readServerConfig(env), { maintenance: false });
}

function counts(objects: Array<{ kind: string }>): Record<string, number> {
  const counted: Record<string, number> = {};
  for (const o of objects) counted[o.kind] = (counted[o.kind] ?? 0) + 1;
  return counted;
}

describe('kill -9 and restart', { timeout: 180_000 }, () => {
  let sessionId = '';

  it('resumes a provisioning killed mid-way: running, steps once each, no duplicate objects', async () => {
    // Bootstrap takes 4.7 s at this scale; 2 s in, the control plane is still being waited for.
    sessionId = await runThenKill(env, ['session'], 2000);
    const runtime = await restart();
    try {
      const before = await runtime.lab.getSession(sessionId);
      expect(before.session.status).toBe('provisioning');
      await runtime.lab.idle();
      const after = await runtime.lab.getSession(sessionId);
      expect(after.session.status).toBe('running');
      expect(after.run?.outcome).toBe('succeeded');
      const names = after.steps.map((s) => s.name);
      expect(names).toEqual([
        'prepare-namespace',
        'create-control-plane',
        'wait-control-plane-ready',
        'create-worker',
        'wait-cluster-ready',
      ]);
      expect(after.steps.every((s) => s.outcome === 'succeeded' && s.endedAt !== null)).toBe(true);
      expect(counts(await runtime.lab.sessionObjects(sessionId))).toEqual({
        VirtualMachine: 2,
        VirtualMachineInstance: 2,
        DataVolume: 2,
        PersistentVolumeClaim: 2,
      });
    } finally {
      await runtime.close();
    }
  });

  it('resumes a golden-image build killed mid-way: ready, source running, one copy per disk', async () => {
    // Halting takes 150 ms and the snapshots 300 ms at this scale: 400 ms in, the build is mid-way.
    const version = Number(await runThenKill(env, ['golden', sessionId], 400));
    const runtime = await restart();
    try {
      const interrupted = await runtime.lab.goldenStatus();
      expect(interrupted.status).toBe('building');
      expect(interrupted.image?.phase).not.toBe('done');
      await runtime.lab.idle();
      const golden = await runtime.lab.goldenStatus();
      expect(golden.status).toBe('ready');
      expect(golden.image?.version).toBe(version);
      expect(golden.disks.map((d) => d.phase)).toEqual(['Succeeded', 'Succeeded']);
      const source = await runtime.lab.getSession(sessionId);
      expect(source.session.status).toBe('running');
      const vms = (await runtime.lab.sessionObjects(sessionId)).filter((o) => o.kind === 'VirtualMachine');
      expect(vms.map((vm) => vm.phase)).toEqual(['Ready', 'Ready']);
      // The next session clones from it.
      const next = await runtime.lab.createSession();
      await runtime.lab.idle();
      expect((await runtime.lab.getSession(next.id)).run?.usedStrategy).toBe('snapshot');
    } finally {
      await runtime.close();
    }
  });
});
