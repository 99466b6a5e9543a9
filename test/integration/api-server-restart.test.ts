/**
 * The API server dies in the middle of a provisioning and comes back: every watch of the
 * platform and of the simulated controllers ends, every call fails for a while, and the session
 * still reaches running in the same run — waits re-list and watch again, steps retry transient
 * errors. As cks-lab's own ServiceAccount, like production.
 */
import { names } from '@cks-lab/core';
import { type KubeObject, R } from '@cks-lab/kubevirt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { installSnapshotPrerequisites } from './support/cluster-fixtures';
import { installDeployRbac } from './support/deploy-manifests';
import { type Platform, SETTINGS, startPlatform } from './support/platform';
import { describeWithApiServer, eventually, startApiServer } from './support/test-cluster';

describeWithApiServer('kube-apiserver killed and restarted during a provisioning', () => {
  let cluster: TestCluster;
  let platform: Platform;

  beforeAll(async () => {
    cluster = await startApiServer();
    await installSnapshotPrerequisites(cluster, SETTINGS);
    platform = await startPlatform(cluster, await installDeployRbac(cluster));
  });
  afterAll(async () => {
    await platform?.stop();
    await cluster?.stop();
  });

  it('completes the run once the API server is back', async () => {
    const session = await platform.lab.createSession();
    const namespace = names.namespace(session.id);
    // Killed as soon as the control-plane VM exists: the run is waiting for it to become ready.
    await eventually('the control-plane VM', 30_000, () => platform.admin.get(R.vm, namespace, names.vm('control-plane', session.id)));
    const downAt = Date.now();
    await cluster.stopApiServer();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await cluster.startApiServer();
    const downMs = Date.now() - downAt;

    await platform.lab.idle();
    const { session: after, run, steps } = await platform.lab.getSession(session.id);
    console.log(
      `API server down for ${downMs} ms; session ${session.id} ${after.status} after ${run!.endedAt! - run!.startedAt} ms; steps: ${JSON.stringify(
        steps.map((s) => [s.name, s.endedAt! - s.startedAt]),
      )}`,
    );
    expect(after.status).toBe('running');
    expect(run).toMatchObject({ usedStrategy: 'bootstrap', outcome: 'succeeded', failureReason: null });
    expect(steps.every((s) => s.outcome === 'succeeded')).toBe(true);
    // The outage fell inside the run.
    expect(run!.endedAt! - downAt).toBeGreaterThan(downMs);
    const vms = (await platform.admin.list<KubeObject & { status?: { ready?: boolean } }>(R.vm, namespace)).items;
    expect(vms.map((vm) => vm.status?.ready)).toEqual([true, true]);
  });
});
