/**
 * CDI v1.64 and snapshot-controller v8.2, the real binaries, against the test API server with
 * kube-controller-manager's PV controller and the CSI stand-in (test/infra/node/csi-driver.ts):
 * cross-namespace clones from a PVC, from a DataSource and from a VolumeSnapshot, the webhook's
 * authorization check, what CDI does with a clone target smaller than its source and when it falls
 * back to a host-assisted copy, and restarts of CDI's processes.
 *
 * Every DataVolume's course is traced (phase, progress, conditions, CDI's annotations, the PVCs
 * and VolumeSnapshots CDI creates, events) and printed: what the simulator has to match.
 *
 * Without the binaries (test/infra/build-test-binaries.sh, build-control-plane-binaries.sh; both
 * need Go) the suite is skipped with the reason printed; under CI it fails instead.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../cluster';
import { CSI_STORAGE_CLASS, type CsiDriverStandIn, startCsiDriver } from '../node/csi-driver';
import { type ControlPlaneBinaries, findControlPlaneBinaries } from './binaries';
import { type CdiControlPlane, startCdi } from './cdi';
import { CONTROLLER_MANAGER_CONTROLLERS, describeWithRealControllers } from './real-cluster';
import { type SnapshotController, startSnapshotController } from './snapshot-controller';

const GROUP = '/apis/cdi.kubevirt.io/v1beta1';
const dvPath = (ns: string, name?: string) => `${GROUP}/namespaces/${ns}/datavolumes${name ? `/${name}` : ''}`;
const pvcPath = (ns: string, name?: string) => `/api/v1/namespaces/${ns}/persistentvolumeclaims${name ? `/${name}` : ''}`;
const snapshotPath = (ns: string, name?: string) =>
  `/apis/snapshot.storage.k8s.io/v1/namespaces/${ns}/volumesnapshots${name ? `/${name}` : ''}`;

describeWithRealControllers('CDI and snapshot-controller on the test API server', () => {
  let cluster: TestCluster;
  let snapshots: SnapshotController;
  let csi: CsiDriverStandIn;
  let cdi: CdiControlPlane;
  let bins: ControlPlaneBinaries;

  beforeAll(async () => {
    const t0 = Date.now();
    const found = findControlPlaneBinaries();
    if ('missing' in found) throw new Error(found.missing);
    bins = found;
    cluster = await startTestCluster({ crdsDir: false, controllerManagerArgs: [`--controllers=${CONTROLLER_MANAGER_CONTROLLERS}`] });
    const deadlineAt = Date.now() + 150_000;
    const manifests = bins.manifests;
    snapshots = await startSnapshotController(cluster, {
      bin: bins.snapshotController,
      manifestsDir: path.join(manifests, 'snapshot'),
      deadlineAt,
    });
    // The cluster's default class, as cks-lab's DataVolumes name none unless configured to.
    csi = await startCsiDriver(cluster, { defaultClass: true });
    cdi = await startCdi(cluster, {
      binaries: { controller: bins.cdiController, apiserver: bins.cdiApiserver },
      manifestsDir: path.join(manifests, 'cdi'),
      deadlineAt,
      storageClass: {
        name: CSI_STORAGE_CLASS,
        claimPropertySets: [
          { accessModes: ['ReadWriteOnce'], volumeMode: 'Block' },
          { accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem' },
        ],
      },
    });
    console.log(
      [
        `kube-apiserver ${cluster.version}: test cluster up in ${cluster.timings.totalMs} ms`,
        `snapshot-controller ${snapshots.version}: started in ${snapshots.startMs} ms`,
        `cdi-apiserver ${cdi.versions.apiserver}: serving in ${cdi.timings.apiserverReadyMs} ms`,
        `cdi-controller ${cdi.versions.controller}: leading in ${cdi.timings.controllerReadyMs} ms`,
        `CDI installed in ${cdi.timings.totalMs} ms; everything up in ${Date.now() - t0} ms`,
      ].join('\n'),
    );
    const profile = await cluster.request('GET', `${GROUP}/storageprofiles/${CSI_STORAGE_CLASS}`);
    console.log(`StorageProfile ${CSI_STORAGE_CLASS} status: ${JSON.stringify(profile.body.status)}`);
  }, 180_000);

  afterAll(async () => {
    await csi?.stop();
    await cluster?.stop();
  }, 60_000);

  it('runs the versions it was built from', () => {
    expect(cdi.versions).toEqual({ controller: bins.cdiVersion, apiserver: bins.cdiVersion });
    expect(snapshots.version).toBe(bins.snapshotterVersion);
  });

  it('clones a PVC across namespaces for a creator with datavolumes/source, and the webhook refuses one without', async () => {
    await namespace('clone-src-a');
    await namespace('clone-dst-b');
    await sourcePvc('clone-src-a', 'disk', '1Gi', 'Block');
    const allowed = await serviceAccountCreator('clone-dst-b', 'cloner', ['clone-src-a']);
    const refused = await serviceAccountCreator('clone-dst-b', 'intruder', []);

    const spec = { source: { pvc: { namespace: 'clone-src-a', name: 'disk' } }, storage: { resources: { requests: { storage: '1Gi' } } } };
    const denied = await cluster.request('POST', dvPath('clone-dst-b'), dataVolume('clone-dst-b', 'denied', spec), { token: refused });
    console.log(`DataVolume without datavolumes/source in clone-src-a -> ${denied.status}: ${denied.body?.message ?? denied.text}`);
    expect(denied.ok).toBe(false);
    expect(denied.body?.message).toMatch(/admission webhook "datavolume-mutate\.cdi\.kubevirt\.io" denied the request/);
    expect((await cluster.request('GET', dvPath('clone-dst-b', 'denied'))).status).toBe(404);

    const trace = traceDataVolume('clone-dst-b', 'root-disk', ['clone-src-a']);
    const created = await cluster.request('POST', dvPath('clone-dst-b'), dataVolume('clone-dst-b', 'root-disk', spec), { token: allowed });
    expect(created.status, created.text).toBe(201);
    const final = await trace.until((dv) => dv.status?.phase === 'Succeeded' || dv.status?.phase === 'Failed', 90_000);
    await trace.report('source.pvc across namespaces');
    expect(final.status.phase).toBe('Succeeded');
    const target = (await cluster.request('GET', pvcPath('clone-dst-b', 'root-disk'))).body;
    expect(target.status.phase).toBe('Bound');

    // CDI's temporary VolumeSnapshot goes: snapshot-controller asks the sidecar to delete it (the content's finalizer).
    let t = Date.now();
    await poll(
      'CDI temporary VolumeSnapshot in clone-src-a deleted',
      45_000,
      async () => (await cluster.request('GET', snapshotPath('clone-src-a'))).body?.items?.length === 0,
    );
    const contents = (await cluster.request('GET', '/apis/snapshot.storage.k8s.io/v1/volumesnapshotcontents')).body.items as any[];
    expect(contents.filter((c) => c.spec.volumeSnapshotRef.namespace === 'clone-src-a')).toEqual([]);
    console.log(`CDI's temporary VolumeSnapshot and its content gone ${Date.now() - t} ms after Succeeded`);
    // Deleting the source releases its volume, which the provisioner deletes (reclaim policy Delete).
    // (Not the DataVolume: its PVC goes by garbage collection, which learns CRDs installed after
    // kube-controller-manager started only at its 30 s discovery resync.)
    const source = (await cluster.request('GET', pvcPath('clone-src-a', 'disk'))).body;
    t = Date.now();
    await must(cluster.request('DELETE', pvcPath('clone-src-a', 'disk')), 'delete source PVC');
    await poll(
      `PV ${source.spec.volumeName} deleted`,
      30_000,
      async () => (await cluster.request('GET', `/api/v1/persistentvolumes/${source.spec.volumeName}`)).status === 404,
    );
    console.log(`PV ${source.spec.volumeName} deleted ${Date.now() - t} ms after its claim's delete`);
  });

  it('clones from a DataSource (sourceRef) across namespaces', async () => {
    await namespace('ds-src');
    await namespace('ds-dst');
    await sourcePvc('ds-src', 'golden', '1Gi', 'Block');
    await must(
      cluster.request('POST', `${GROUP}/namespaces/ds-src/datasources`, {
        apiVersion: 'cdi.kubevirt.io/v1beta1',
        kind: 'DataSource',
        metadata: { name: 'base', namespace: 'ds-src' },
        spec: { source: { pvc: { namespace: 'ds-src', name: 'golden' } } },
      }),
      'create DataSource',
    );
    const creator = await serviceAccountCreator('ds-dst', 'cloner', ['ds-src']);
    const trace = traceDataVolume('ds-dst', 'root-disk', ['ds-src']);
    const spec = {
      sourceRef: { kind: 'DataSource', namespace: 'ds-src', name: 'base' },
      storage: { resources: { requests: { storage: '1Gi' } } },
    };
    const created = await cluster.request('POST', dvPath('ds-dst'), dataVolume('ds-dst', 'root-disk', spec), { token: creator });
    expect(created.status, created.text).toBe(201);
    const final = await trace.until((dv) => dv.status?.phase === 'Succeeded' || dv.status?.phase === 'Failed', 90_000);
    await trace.report('sourceRef DataSource');
    expect(final.status.phase).toBe('Succeeded');
  });

  it('copies a VolumeSnapshot of another namespace into vm-templates (golden copy)', async () => {
    await namespace('session-s');
    await sourcePvc('session-s', 'vm-disk', '1Gi', 'Block');
    await must(
      cluster.request('POST', snapshotPath('session-s'), {
        apiVersion: 'snapshot.storage.k8s.io/v1',
        kind: 'VolumeSnapshot',
        metadata: { name: 'vm-disk-snap', namespace: 'session-s' },
        spec: { volumeSnapshotClassName: csi.snapshotClass, source: { persistentVolumeClaimName: 'vm-disk' } },
      }),
      'create VolumeSnapshot',
    );
    const snap = await poll('VolumeSnapshot readyToUse', 30_000, async () => {
      const r = await cluster.request('GET', snapshotPath('session-s', 'vm-disk-snap'));
      return r.body?.status?.readyToUse ? r.body : undefined;
    });
    console.log(`VolumeSnapshot session-s/vm-disk-snap status: ${JSON.stringify(snap.status)}`);

    const trace = traceDataVolume('vm-templates', 'golden-v1-control-plane', ['session-s']);
    const created = await cluster.request(
      'POST',
      dvPath('vm-templates'),
      dataVolume(
        'vm-templates',
        'golden-v1-control-plane',
        {
          source: { snapshot: { namespace: 'session-s', name: 'vm-disk-snap' } },
          storage: { resources: { requests: { storage: '1Gi' } } },
        },
        { 'cdi.kubevirt.io/storage.bind.immediate.requested': 'true' },
      ),
    );
    expect(created.status, created.text).toBe(201);
    const final = await trace.until((dv) => dv.status?.phase === 'Succeeded' || dv.status?.phase === 'Failed', 90_000);
    await trace.report('source.snapshot across namespaces');
    expect(final.status.phase).toBe('Succeeded');
  });

  // What CDI does with a clone target smaller than its source: it never fails the DataVolume. Each
  // case is watched for 30 s (CDI retries with backoff) and its end state pinned.
  // The validation may run in the DataVolume's first sync (no phase yet) or after one that set Pending.
  it('leaves a DataVolume without phase or Pending (CloneValidationFailed, no PVC) when a Block target is smaller than the source PVC', async () => {
    const { dv, trace } = await smallerClone(
      'small-block',
      'Block',
      (src) => ({ pvc: { namespace: src, name: 'disk' } }),
      false,
      validationFailed,
    );
    await trace.report('smaller Block target, source.pvc');
    expect([undefined, 'Pending']).toContain(dv.status.phase);
    expect(condition(dv, 'Ready')).toMatchObject({ status: 'False', reason: 'CloneValidationFailed' });
    expect(condition(dv, 'Ready').message).toMatch(
      /target resources requests storage size is smaller than the source 1073741824 < 2147483648/,
    );
    expect((await cluster.request('GET', pvcPath('small-block-dst', 'too-small'))).status).toBe(404);
  });

  it('leaves a DataVolume CloneScheduled (Running=False Error, PVC clonePhase Error) when a Filesystem target is smaller than the source PVC', async () => {
    const { dv, trace } = await smallerClone(
      'small-fs',
      'Filesystem',
      (src) => ({ pvc: { namespace: src, name: 'disk' } }),
      false,
      (d) => condition(d, 'Running')?.reason === 'Error',
    );
    await trace.report('smaller Filesystem target, source.pvc');
    // CloneScheduled once the populator ran; under load the refusal can already show while Pending.
    expect(['Pending', 'CloneScheduled']).toContain(dv.status.phase);
    expect(condition(dv, 'Running')).toMatchObject({ status: 'False', reason: 'Error' });
    const pvc = (await cluster.request('GET', pvcPath('small-fs-dst', 'too-small'))).body;
    expect(pvc.status.phase).toBe('Pending');
    expect(pvc.metadata.annotations['cdi.kubevirt.io/clonePhase']).toBe('Error');
    // The request is inflated by the filesystem overhead (6 %) before the comparison.
    expect(pvc.metadata.annotations['cdi.kubevirt.io/cloneError']).toBe(
      'target resources requests storage size is smaller than the source 1138166334 < 2147483648',
    );
  });

  it('leaves a DataVolume without phase or Pending (CloneValidationFailed, no PVC) when a target is smaller than the VolumeSnapshot it copies', async () => {
    const { dv, trace } = await smallerClone(
      'small-snap',
      'Block',
      (src) => ({ snapshot: { namespace: src, name: 'disk-snap' } }),
      true,
      validationFailed,
    );
    await trace.report('smaller Block target, source.snapshot');
    expect([undefined, 'Pending']).toContain(dv.status.phase);
    expect(condition(dv, 'Ready')).toMatchObject({ status: 'False', reason: 'CloneValidationFailed' });
    expect((await cluster.request('GET', pvcPath('small-snap-dst', 'too-small'))).status).toBe(404);
  });

  it('records the host-assisted fallback CDI chooses when source and target volume modes differ', async () => {
    await namespace('fallback-src');
    await namespace('fallback-dst');
    await sourcePvc('fallback-src', 'disk', '1Gi', 'Filesystem');
    const creator = await serviceAccountCreator('fallback-dst', 'cloner', ['fallback-src']);
    const trace = traceDataVolume('fallback-dst', 'other-mode', ['fallback-src']);
    const spec = {
      source: { pvc: { namespace: 'fallback-src', name: 'disk' } },
      storage: { volumeMode: 'Block', resources: { requests: { storage: '2Gi' } } },
    };
    const created = await cluster.request('POST', dvPath('fallback-dst'), dataVolume('fallback-dst', 'other-mode', spec), {
      token: creator,
    });
    expect(created.status, created.text).toBe(201);
    // No pod runs here (no scheduler, no cloner): what matters is CDI's choice, visible within seconds.
    const dv = await trace.until(() => false, 15_000);
    await trace.report('volume modes differ (host-assisted fallback)');
    const pvc = (await cluster.request('GET', pvcPath('fallback-dst', 'other-mode'))).body;
    console.log(
      `fallback: DataVolume cloneType=${dv.metadata.annotations['cdi.kubevirt.io/cloneType']}; PVC cloneType=${pvc.metadata?.annotations?.['cdi.kubevirt.io/cloneType']} cloneFallbackReason=${pvc.metadata?.annotations?.['cdi.kubevirt.io/cloneFallbackReason']}`,
    );
    expect(dv.metadata.annotations['cdi.kubevirt.io/cloneType']).toBe('copy');
    expect(pvc.metadata.annotations['cdi.kubevirt.io/cloneFallbackReason']).toBe('The volume modes of source and target are incompatible');
  });

  it('keeps working across restarts of cdi-apiserver and cdi-controller', async () => {
    await namespace('restart-src');
    await namespace('restart-dst');
    await sourcePvc('restart-src', 'disk', '1Gi', 'Block');
    const creator = await serviceAccountCreator('restart-dst', 'cloner', ['restart-src']);
    const spec = { source: { pvc: { namespace: 'restart-src', name: 'disk' } }, storage: { resources: { requests: { storage: '1Gi' } } } };

    await cdi.apiserver.stop('SIGKILL');
    const refused = await cluster.request('POST', dvPath('restart-dst'), dataVolume('restart-dst', 'while-down', spec), { token: creator });
    console.log(`DataVolume create with cdi-apiserver down -> ${refused.status}: ${refused.body?.message ?? refused.text}`);
    expect(refused.status).toBe(500);
    console.log(`cdi-apiserver restarted, serving in ${await cdi.restartApiserver(Date.now() + 60_000)} ms`);

    // Created while no cdi-controller runs: nothing happens until one leads again.
    await cdi.controller.stop('SIGKILL');
    const trace = traceDataVolume('restart-dst', 'root-disk', ['restart-src']);
    const created = await cluster.request('POST', dvPath('restart-dst'), dataVolume('restart-dst', 'root-disk', spec), { token: creator });
    expect(created.status, created.text).toBe(201);
    console.log(`cdi-controller restarted after SIGKILL, leading in ${await cdi.restartController(Date.now() + 90_000)} ms`);
    const final = await trace.until((dv) => dv.status?.phase === 'Succeeded' || dv.status?.phase === 'Failed', 60_000);
    await trace.report('created while cdi-controller was down');
    expect(final.status.phase).toBe('Succeeded');
  });

  /** A DataVolume of 1Gi cloning a 2Gi source (a PVC, or a VolumeSnapshot of one), watched for 30 s. */
  /** A clone CDI must refuse; `refused` says what the refusal looks like once CDI got there (it never reaches Failed, which ends the wait too). */
  async function smallerClone(
    prefix: string,
    volumeMode: 'Block' | 'Filesystem',
    source: (srcNs: string) => unknown,
    snapshot = false,
    refused: (dv: any) => boolean = () => false,
  ) {
    const src = `${prefix}-src`;
    const dst = `${prefix}-dst`;
    await namespace(src);
    await namespace(dst);
    await sourcePvc(src, 'disk', '2Gi', volumeMode);
    if (snapshot) {
      await must(
        cluster.request('POST', snapshotPath(src), {
          apiVersion: 'snapshot.storage.k8s.io/v1',
          kind: 'VolumeSnapshot',
          metadata: { name: 'disk-snap' },
          spec: { volumeSnapshotClassName: csi.snapshotClass, source: { persistentVolumeClaimName: 'disk' } },
        }),
        'create VolumeSnapshot',
      );
      await poll(
        'VolumeSnapshot readyToUse',
        30_000,
        async () => (await cluster.request('GET', snapshotPath(src, 'disk-snap'))).body?.status?.readyToUse === true,
      );
    }
    const creator = await serviceAccountCreator(dst, 'cloner', [src]);
    const trace = traceDataVolume(dst, 'too-small', [src]);
    const spec = { source: source(src), storage: { volumeMode, resources: { requests: { storage: '1Gi' } } } };
    const created = await cluster.request('POST', dvPath(dst), dataVolume(dst, 'too-small', spec), { token: creator });
    expect(created.status, created.text).toBe(201);
    // Generous: on a loaded machine CDI's backoff can take a while to get to the refusal.
    const dv = await trace.until((d) => d.status?.phase === 'Succeeded' || d.status?.phase === 'Failed' || refused(d), 90_000);
    return { dv, trace };
  }

  const validationFailed = (dv: any) => condition(dv, 'Ready')?.reason === 'CloneValidationFailed';

  function condition(dv: any, type: string): any {
    return (dv.status?.conditions ?? []).find((c: any) => c.type === type);
  }

  // ---------------------------------------------------------------------------------------------

  async function must(p: Promise<{ ok: boolean; status: number; text: string }>, what: string, allow: number[] = []): Promise<void> {
    const r = await p;
    if (!r.ok && !allow.includes(r.status)) throw new Error(`${what} -> ${r.status}: ${r.text.slice(0, 600)}`);
  }

  async function namespace(name: string): Promise<void> {
    await must(
      cluster.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
      `namespace ${name}`,
      [409],
    );
    await poll(
      `ServiceAccount ${name}/default`,
      30_000,
      async () => (await cluster.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).ok,
    );
  }

  /** A PVC of the CSI stand-in's class, provisioned and bound (a disk that exists before CDI is involved). */
  async function sourcePvc(ns: string, name: string, size: string, volumeMode: 'Block' | 'Filesystem'): Promise<void> {
    await must(
      cluster.request('POST', pvcPath(ns), {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name, namespace: ns },
        spec: {
          accessModes: ['ReadWriteOnce'],
          volumeMode,
          storageClassName: CSI_STORAGE_CLASS,
          resources: { requests: { storage: size } },
        },
      }),
      `PVC ${ns}/${name}`,
    );
    await poll(
      `PVC ${ns}/${name} Bound`,
      30_000,
      async () => (await cluster.request('GET', pvcPath(ns, name))).body?.status?.phase === 'Bound',
    );
  }

  /**
   * A ServiceAccount in `ns` that may manage DataVolumes there and, in each of `sourceNamespaces`,
   * `create` `datavolumes/source` (what CDI's webhook checks: the cks-lab-golden-cloner ClusterRole).
   */
  async function serviceAccountCreator(ns: string, name: string, sourceNamespaces: string[]): Promise<string> {
    await must(
      cluster.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } }),
      `SA ${ns}/${name}`,
      [409],
    );
    const bind = async (roleNs: string, role: string, rules: unknown[]) => {
      await must(
        cluster.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${roleNs}/roles`, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: role },
          rules,
        }),
        `Role ${roleNs}/${role}`,
        [409],
      );
      await must(
        cluster.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${roleNs}/rolebindings`, {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: `${role}-${ns}-${name}` },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
          subjects: [{ kind: 'ServiceAccount', namespace: ns, name }],
        }),
        `RoleBinding ${roleNs}/${role}`,
        [409],
      );
    };
    await bind(ns, 'datavolume-editor', [
      { apiGroups: ['cdi.kubevirt.io'], resources: ['datavolumes'], verbs: ['get', 'list', 'watch', 'create', 'delete'] },
    ]);
    for (const src of sourceNamespaces) {
      await bind(src, 'clone-source', [{ apiGroups: ['cdi.kubevirt.io'], resources: ['datavolumes/source'], verbs: ['create'] }]);
    }
    return cluster.createServiceAccountToken(ns, name);
  }

  function dataVolume(ns: string, name: string, spec: unknown, annotations?: Record<string, string>) {
    return {
      apiVersion: 'cdi.kubevirt.io/v1beta1',
      kind: 'DataVolume',
      metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
      spec,
    };
  }

  async function poll<T>(what: string, ms: number, check: () => Promise<T | undefined | false>): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await check();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /**
   * Samples the DataVolume, the PVCs and VolumeSnapshots of its namespace and of the source
   * namespaces every 100 ms and keeps each distinct state, so the report shows CDI's course.
   */
  function traceDataVolume(ns: string, name: string, sourceNamespaces: string[]) {
    const t0 = Date.now();
    const states: string[] = [];
    let last = '';
    let latest: any;
    const sample = async () => {
      const dv = await cluster.request('GET', dvPath(ns, name));
      if (!dv.ok) return;
      latest = dv.body;
      const pvcs = [];
      const snaps = [];
      for (const n of [ns, ...sourceNamespaces]) {
        for (const p of (await cluster.request('GET', pvcPath(n))).body?.items ?? []) pvcs.push(pvcState(p));
        for (const s of (await cluster.request('GET', snapshotPath(n))).body?.items ?? []) {
          snaps.push(
            `${s.metadata.namespace}/${s.metadata.name} ready=${s.status?.readyToUse ?? '-'}${s.metadata.deletionTimestamp ? ' deleting' : ''}`,
          );
        }
      }
      const state = JSON.stringify({ dv: dvState(dv.body), pvcs, snapshots: snaps });
      if (state !== last) {
        last = state;
        states.push(`+${Date.now() - t0}ms ${state}`);
      }
    };
    let running = true;
    const loop = (async () => {
      while (running) {
        await sample().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return {
      /** The DataVolume once `done` holds, or as it is after `ms`. */
      async until(done: (dv: any) => boolean, ms: number): Promise<any> {
        await poll(`DataVolume ${ns}/${name}`, ms, async () => latest && done(latest)).catch(() => undefined);
        running = false;
        await loop;
        await sample().catch(() => undefined);
        return latest;
      },
      async report(title: string): Promise<void> {
        const events = [];
        for (const n of [ns, ...sourceNamespaces]) {
          for (const e of (await cluster.request('GET', `/api/v1/namespaces/${n}/events`)).body?.items ?? []) {
            events.push(
              `${e.involvedObject.kind} ${e.involvedObject.namespace}/${e.involvedObject.name}: ${e.type} ${e.reason} x${e.count ?? 1} (${e.source?.component ?? e.reportingComponent}) ${e.message}`,
            );
          }
        }
        console.log(
          `===== ${title}: DataVolume ${ns}/${name}\n${states.join('\n')}\n--- final DataVolume:\n${JSON.stringify(redact(latest), null, 1)}\n--- events:\n${events.join('\n')}`,
        );
      },
    };
  }
});

function cdiAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations ?? {})
      .filter(([k]) => k.includes('cdi.kubevirt.io') || k.startsWith('volume.') || k.startsWith('pv.kubernetes.io'))
      .map(([k, v]) => [k, k.endsWith('clone.token') || k.endsWith('extended.clone.token') ? '<token>' : v]),
  );
}

function dvState(dv: any) {
  return {
    phase: dv.status?.phase,
    progress: dv.status?.progress,
    restartCount: dv.status?.restartCount,
    claimName: dv.status?.claimName,
    conditions: (dv.status?.conditions ?? []).map(
      (c: any) => `${c.type}=${c.status}${c.reason ? `(${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`,
    ),
    annotations: cdiAnnotations(dv.metadata.annotations),
    finalizers: dv.metadata.finalizers,
  };
}

function pvcState(p: any) {
  return {
    name: `${p.metadata.namespace}/${p.metadata.name}`,
    phase: p.status?.phase,
    size: p.spec.resources?.requests?.storage,
    volumeMode: p.spec.volumeMode,
    volumeName: p.spec.volumeName,
    dataSourceRef: p.spec.dataSourceRef
      ? `${p.spec.dataSourceRef.kind}/${p.spec.dataSourceRef.namespace ?? ''}/${p.spec.dataSourceRef.name}`
      : undefined,
    annotations: cdiAnnotations(p.metadata.annotations),
    deleting: p.metadata.deletionTimestamp ? true : undefined,
  };
}

function redact(dv: any): any {
  if (!dv) return dv;
  return {
    metadata: { ...dv.metadata, annotations: cdiAnnotations(dv.metadata.annotations), managedFields: undefined },
    spec: dv.spec,
    status: dv.status,
  };
}
