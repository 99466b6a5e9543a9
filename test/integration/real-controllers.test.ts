/**
 * cks-lab's flows against the real control planes: KubeVirt v1.8 (virt-api, virt-controller), CDI
 * v1.64 (cdi-apiserver, cdi-controller) and the CSI snapshot-controller v8, built from their Go
 * modules and run against the test kube-apiserver (test/infra/control-plane). Every status cks-lab
 * waits on, every clone and size check, every authorization check and webhook rejection comes from
 * those binaries; only the node (kubelet, CSI driver, virt-handler with a guest timing model) is
 * played by test code. cks-lab runs as its own ServiceAccount bound only to deploy/'s RBAC.
 */
import { GOLDEN_NAMESPACE, names, ROLES } from '@cks-lab/core';
import { type KubeObject, R } from '@cks-lab/kubevirt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithRealControllers, type RealCluster, startRealCluster } from '../infra/control-plane/real-cluster';
import { installDeployRbac } from './support/deploy-manifests';
import { flowMeasurements } from './support/flow-measurements';
import { type Platform, SETTINGS, startPlatform, startSimulatedPlatform } from './support/platform';
import {
  isSubsequence,
  recordStatuses,
  type StatusRecorder,
  type StatusRecording,
  withoutSkippableProgress,
} from './support/status-recorder';
import { eventually } from './support/test-cluster';

type Obj = KubeObject & { spec?: any; status?: any };

/** Start-up of every control plane, cold, on 2 cores. */
const START_TIMEOUT_MS = 300_000;

/** Generous: virt-controller and CDI re-queue with their own backoffs, and 2 cores run everything. */
const STEP_DEADLINE_MS = 120_000;
/** The clone deadline of the stuck-clone flow: long enough for a clone that works, short enough to wait out. */
const STUCK_CLONE_DEADLINE_MS = 30_000;
/** A whole flow: a few steps, each well within its deadline when nothing is wrong. */
const FLOW_TIMEOUT_MS = 420_000;

describeWithRealControllers('cks-lab flows on the real KubeVirt, CDI and snapshot controllers', () => {
  let real: RealCluster;
  let platform: Platform;
  const { measure, provision, sessions, report } = flowMeasurements(() => platform);
  /** What cks-lab read from the real controllers from the first session to the first snapshot session. */
  let recorder: StatusRecorder;
  let realRecording: StatusRecording;

  const vmsOf = async (sessionId: string) => (await platform.admin.list<Obj>(R.vm, names.namespace(sessionId))).items;

  /** What the controllers and the node said about a session, for a failing assertion's message. */
  async function clusterState(sessionId: string): Promise<string> {
    const namespace = names.namespace(sessionId);
    const statuses = async (type: typeof R.vm) =>
      (await platform.admin.list<Obj>(type, namespace)).items.map((o) => ({ name: o.metadata.name, status: o.status }));
    const pods = (await real.cluster.request('GET', `/api/v1/namespaces/${namespace}/pods`)).body?.items ?? [];
    return JSON.stringify(
      {
        vms: await statuses(R.vm),
        vmis: await statuses(R.vmi),
        dataVolumes: await statuses(R.dataVolume),
        pods: pods.map((p: any) => ({
          name: p.metadata.name,
          phase: p.status?.phase,
          conditions: p.status?.conditions,
          containers: p.status?.containerStatuses,
        })),
      },
      null,
      1,
    );
  }

  beforeAll(async () => {
    real = await startRealCluster();
    console.log(`real control planes: ${JSON.stringify(real.versions)}; start-up ms ${JSON.stringify(real.timings)}`);
    await installBaseImage(real);
    platform = await startPlatform(real.cluster, await installDeployRbac(real.cluster), {
      simulatedControllers: false,
      stepDeadlineMs: STEP_DEADLINE_MS,
    });
    recorder = recordStatuses(platform.admin);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await platform?.stop();
    await real?.stop();
    report('platform API requests and time per flow (real controllers)');
  });

  it('preflight passes on the real control planes', async () => {
    const preflight = await platform.kube.cluster.preflight();
    const failing = preflight.checks.filter((c) => !c.ok);
    expect(failing, JSON.stringify(failing, null, 2)).toEqual([]);
  });

  it(
    'bootstrap: without a golden image a session is provisioned to running',
    async () => {
      const { session, run } = await provision('bootstrap session');
      if (run?.outcome !== 'succeeded') console.log(`bootstrap failed; cluster state: ${await clusterState(session.id)}`);
      expect(run, JSON.stringify(run)).toMatchObject({ usedStrategy: 'bootstrap', outcome: 'succeeded' });
      expect(session.status).toBe('running');
      expect((await vmsOf(session.id)).map((vm) => vm.status?.ready)).toEqual([true, true]);
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'golden image: the real snapshot controllers back up both disks, CDI copies them into vm-templates',
    async () => {
      const source = sessions['bootstrap session']!;
      await measure('golden image build', async () => {
        await platform.lab.createGolden(source.id);
        await platform.lab.idle();
      });
      const status = await platform.lab.goldenStatus();
      expect(status, JSON.stringify(status.image)).toMatchObject({ status: 'ready', activeStrategy: 'snapshot' });
      for (const role of ROLES) {
        const copy = await platform.admin.get<Obj>(R.dataVolume, GOLDEN_NAMESPACE, names.goldenCopy(role, status.image!.version));
        expect(copy!.status.phase).toBe('Succeeded');
      }
      await eventually('the source session ready again', 60_000, async () =>
        (await vmsOf(source.id)).every((vm) => vm.spec.runStrategy === 'Always' && vm.status?.ready),
      );
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'snapshot: a new session clones both disks from the golden image and runs without a fallback',
    async () => {
      const { session, run } = await provision('snapshot session');
      if (run?.outcome !== 'succeeded' || run.usedStrategy !== 'snapshot')
        console.log(`snapshot session: ${JSON.stringify(run)}; cluster state: ${await clusterState(session.id)}`);
      expect(run, JSON.stringify(run)).toMatchObject({ usedStrategy: 'snapshot', fallbackReason: null, outcome: 'succeeded' });
      expect(session.status).toBe('running');
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'the simulator goes through the states the real controllers went through (conformance)',
    async () => {
      await recorder.settled();
      realRecording = recorder.stop();
      const simulated = await startSimulatedPlatform();
      let simRecording: StatusRecording;
      const simRecorder = recordStatuses(simulated.api);
      try {
        const bootstrap = await simulated.lab.createSession();
        await simulated.lab.idle();
        await simulated.lab.createGolden(bootstrap.id);
        await simulated.lab.idle();
        await simulated.lab.createSession();
        await simulated.lab.idle();
      } finally {
        await simRecorder.settled();
        simRecording = simRecorder.stop();
        await simulated.stop();
      }
      const real = realRecording.timelines;
      const sim = simRecording.timelines;
      console.log(`status timelines, real controllers: ${JSON.stringify(real, null, 1)}\nsimulator: ${JSON.stringify(sim, null, 1)}`);
      // The same objects, each ending in the same state, and every state the simulator shows is one the real controllers showed, in the same order.
      expect(Object.keys(sim).sort()).toEqual(Object.keys(real).sort());
      for (const key of Object.keys(real)) {
        expect(sim[key]?.at(-1), `${key}: final state`).toEqual(real[key]!.at(-1));
        expect(
          isSubsequence(withoutSkippableProgress(sim[key] ?? [], real[key]!), real[key]!),
          `${key}: simulator ${JSON.stringify(sim[key])} vs real ${JSON.stringify(real[key])}`,
        ).toBe(true);
      }
    },
    FLOW_TIMEOUT_MS,
  );

  /** The flow's outcome: the snapshot path given up for bootstrap, with only the bootstrap VMs and disks left. */
  async function expectFellBack(name: string, detail: RegExp) {
    const { session, run } = await provision(name);
    if (run?.outcome !== 'succeeded') console.log(`${name}: ${JSON.stringify(run)}; cluster state: ${await clusterState(session.id)}`);
    expect(run, JSON.stringify(run)).toMatchObject({
      requestedStrategy: 'snapshot',
      usedStrategy: 'bootstrap',
      fallbackReason: 'snapshot-path-failed',
      outcome: 'succeeded',
    });
    expect(run!.fallbackDetail).toMatch(detail);
    const namespace = names.namespace(session.id);
    expect((await vmsOf(session.id)).map((vm) => vm.status?.ready)).toEqual([true, true]);
    const disks = (await platform.admin.list<Obj>(R.dataVolume, namespace)).items;
    // cdi-apiserver's mutating webhook writes the DataSource's claim into spec.source: compare names.
    const origin = (dv: Obj) => ((dv.spec.source?.pvc?.name ?? dv.spec.sourceRef?.name) === SETTINGS.baseImage.name ? 'base' : 'golden');
    expect(disks.map((dv) => `${dv.metadata.name} ${dv.status?.phase} ${origin(dv)}`).sort()).toEqual(
      ROLES.map((role) => `${names.rootDisk(role, session.id)} Succeeded base`).sort(),
    );
  }

  it(
    'virt-controller, cdi-controller and snapshot-controller killed (SIGKILL) mid-clone: the snapshot session still comes up',
    async () => {
      const name = 'snapshot session, controllers killed';
      const { run } = await measure(name, async () => {
        const session = await platform.lab.createSession();
        sessions[name] = session;
        const namespace = names.namespace(session.id);
        await eventually(
          'the clones under way',
          60_000,
          async () => (await platform.admin.list<Obj>(R.dataVolume, namespace)).items.length === ROLES.length,
        );
        await Promise.all([
          real.kubevirt.virtController.stop('SIGKILL'),
          real.cdi.controller.stop('SIGKILL'),
          real.snapshotController.process.stop('SIGKILL'),
        ]);
        // A killed leader keeps its Lease until it expires: CDI's successor waits out its 15 s.
        const deadline = Date.now() + 120_000;
        const restartMs = await Promise.all([
          real.kubevirt.restartController(deadline),
          real.cdi.restartController(deadline),
          real.snapshotController.restart(deadline),
        ]);
        console.log(
          `controllers leading again after (ms) virt-controller ${restartMs[0]}, cdi-controller ${restartMs[1]}, snapshot-controller ${restartMs[2]}`,
        );
        await platform.lab.idle();
        return platform.lab.getSession(session.id);
      });
      expect(run, JSON.stringify(run)).toMatchObject({ usedStrategy: 'snapshot', fallbackReason: null, outcome: 'succeeded' });
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'stuck clone: when storage never serves the golden data, the session falls back to bootstrap at the clone deadline',
    async () => {
      const version = (await platform.lab.goldenStatus()).image!.version;
      const goldenCopies = new Set(ROLES.map((role) => names.goldenCopy(role, version)));
      const deadlines = platform.lab.config.deadlines;
      const cloneDeadline = deadlines.cloneDisks;
      real.csi.failVolumesFrom((claim) => goldenCopies.has(claim));
      deadlines.cloneDisks = STUCK_CLONE_DEADLINE_MS;
      try {
        await expectFellBack('stuck clone session', /deadline passed/);
      } finally {
        real.csi.failVolumesFrom(null);
        deadlines.cloneDisks = cloneDeadline;
      }
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'golden image deleted and built again: its copies go, the new version serves snapshot sessions',
    async () => {
      const before = (await platform.lab.goldenStatus()).image!.version;
      await platform.lab.deleteGolden();
      await platform.lab.idle();
      await eventually('the old golden copies gone', 120_000, async () => {
        const left = await Promise.all(ROLES.map((role) => platform.admin.get(R.pvc, GOLDEN_NAMESPACE, names.goldenCopy(role, before))));
        return left.every((pvc) => pvc === null);
      });
      await measure('golden image rebuilt', async () => {
        await platform.lab.createGolden(sessions['bootstrap session']!.id);
        await platform.lab.idle();
      });
      const status = await platform.lab.goldenStatus();
      expect(status, JSON.stringify(status.image)).toMatchObject({ status: 'ready', activeStrategy: 'snapshot' });
      expect(status.image!.version).toBeGreaterThan(before);
      const { run } = await provision('snapshot session from the rebuilt image');
      expect(run, JSON.stringify(run)).toMatchObject({ usedStrategy: 'snapshot', fallbackReason: null, outcome: 'succeeded' });
    },
    FLOW_TIMEOUT_MS,
  );

  // The strategy reads the golden disks' state in the cluster before it picks snapshot
  // (packages/core/src/strategy.ts): copies gone are seen before any clone is tried. (A clone whose
  // source goes in between is refused by CDI as CloneWithoutSource and fails fast: kubevirt-cluster's
  // unit tests and the simulator's clone-fail fault cover that race.)
  it(
    "golden copies removed behind cks-lab's back: new sessions bootstrap at once, saying the golden disks are not ready",
    async () => {
      const version = (await platform.lab.goldenStatus()).image!.version;
      for (const role of ROLES) await platform.admin.delete(R.dataVolume, GOLDEN_NAMESPACE, names.goldenCopy(role, version));
      await eventually('the golden copies gone', 120_000, async () => {
        const left = await Promise.all(ROLES.map((role) => platform.admin.get(R.pvc, GOLDEN_NAMESPACE, names.goldenCopy(role, version))));
        return left.every((pvc) => pvc === null);
      });
      const { run } = await provision('session without golden copies');
      expect(run, JSON.stringify(run)).toMatchObject({
        requestedStrategy: 'bootstrap',
        usedStrategy: 'bootstrap',
        fallbackReason: 'golden-not-ready',
        outcome: 'succeeded',
      });
      expect(run!.fallbackDetail).toMatch(new RegExp(`golden image v${version}: .*not ready in the cluster`));
    },
    FLOW_TIMEOUT_MS,
  );

  it(
    'deleting every session leaves nothing behind',
    async () => {
      const ids = Object.values(sessions).map((s) => s.id);
      await measure(`delete ${ids.length} sessions`, async () => {
        for (const id of ids) await platform.lab.deleteSession(id);
        await platform.lab.idle();
      });
      for (const id of ids) {
        expect((await platform.lab.getSession(id)).session.status).toBe('terminated');
        expect(await platform.admin.get(R.namespace, undefined, names.namespace(id))).toBeNull();
      }
    },
    FLOW_TIMEOUT_MS,
  );
});

/** The base OS image the bootstrap VMs clone: a PVC on the CSI class (provisioned by the node stand-in) and its DataSource. */
async function installBaseImage(real: RealCluster): Promise<void> {
  const { namespace, name } = SETTINGS.baseImage;
  const { cluster } = real;
  const must = async (path: string, body: unknown) => {
    const r = await cluster.request('POST', path, body);
    if (!r.ok && r.status !== 409) throw new Error(`POST ${path} -> ${r.status}: ${r.text}`);
  };
  await must(`/api/v1/namespaces/${namespace}/persistentvolumeclaims`, {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: real.csi.storageClass },
  });
  await must(`/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datasources`, {
    apiVersion: 'cdi.kubevirt.io/v1beta1',
    kind: 'DataSource',
    metadata: { name, namespace },
    spec: { source: { pvc: { namespace, name } } },
  });
  await eventually(`DataSource ${namespace}/${name} Ready`, 60_000, async () => {
    const ds = (await cluster.request('GET', `/apis/cdi.kubevirt.io/v1beta1/namespaces/${namespace}/datasources/${name}`)).body;
    return (ds?.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  });
}
