/**
 * ClientNodeObjectApi against a real kube-apiserver: the wire behaviour the rest of cks-lab relies
 * on — strict creates, merge patches on custom resources and their status, errors mapped to core's
 * errors, watches whose every end is reported exactly once — and that every object the adapter
 * builds is accepted by the official CRD schemas with strict field validation.
 */
import { DomainError, NotFoundError, TransientError, ValidationError } from '@cks-lab/core';
import {
  AlreadyExistsError,
  bootstrapFlowObjects,
  generateBootstrapPki,
  goldenBuildObjects,
  Informer,
  type KubeObject,
  R,
  snapshotFlowObjects,
  type WatchEvent,
  waitFor,
} from '@cks-lab/kubevirt';
import { ClientNodeObjectApi, NotServedError } from '@cks-lab/kubevirt/kubernetes';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestCluster } from '../infra/cluster';
import { SETTINGS } from './support/platform';
import { describeWithApiServer, eventually, kubeConfigOf, startApiServer } from './support/test-cluster';

type Obj = KubeObject & { spec?: any; status?: any };

const NS = 'wire-tests';

function testVm(name: string, extra: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, namespace: NS, labels: { suite: 'wire' } },
    spec: { runStrategy: 'Halted', template: { spec: { domain: { devices: {} } } }, ...extra },
  };
}

/** Collects one watch's events and its end. */
function recorder() {
  const events: WatchEvent<Obj>[] = [];
  const closes: unknown[] = [];
  return {
    events,
    closes,
    onEvent: (e: WatchEvent<Obj>) => events.push(e),
    onClose: (error?: unknown) => closes.push(error ?? 'no error'),
  };
}

describeWithApiServer('ClientNodeObjectApi on a real API server', () => {
  let cluster: TestCluster;
  let api: ClientNodeObjectApi;

  beforeAll(async () => {
    cluster = await startApiServer();
    api = new ClientNodeObjectApi(kubeConfigOf(cluster), { watchTimeoutSeconds: [2, 2] });
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  afterAll(async () => {
    api?.close();
    await cluster?.stop();
  });

  it('creates every object of every flow with strict field validation, and rejects an unknown field', async () => {
    const pki = await generateBootstrapPki();
    const objects = [
      ...snapshotFlowObjects('5e55a0a1', 3, SETTINGS),
      ...bootstrapFlowObjects('b0075a0b', SETTINGS, pki),
      ...goldenBuildObjects('5e55a0a1', 3, { 'control-plane': 'vmsnapshot-a-volume-root', worker: 'vmsnapshot-b-volume-root' }, SETTINGS),
    ];
    const kinds = new Set<string>();
    for (const object of objects) {
      const created = await api.create(object);
      expect(created.metadata.uid, `${object.kind} ${object.metadata.name}`).toBeTruthy();
      kinds.add(object.kind);
    }
    console.log(`${objects.length} objects of ${kinds.size} kinds accepted with fieldValidation=Strict: ${[...kinds].join(', ')}`);
    expect(kinds).toEqual(
      new Set([
        'Namespace',
        'NetworkAttachmentDefinition',
        'NetworkPolicy',
        'RoleBinding',
        'Service',
        'Secret',
        'VirtualMachine',
        'VirtualMachineSnapshot',
        'DataVolume',
        'DataSource',
      ]),
    );

    const misspelt = testVm('misspelt', { foo: true });
    const error = await api.create(misspelt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/unknown field "spec\.foo"/);
    expect(await api.get(R.vm, NS, 'misspelt')).toBeNull();
  });

  it('maps AlreadyExists, a missing object, an unserved path, a stale resourceVersion and a refusal', async () => {
    await api.create(testVm('twice'));
    await expect(api.create(testVm('twice'))).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await api.get(R.vm, NS, 'never-created')).toBeNull();
    await expect(api.patch(R.vm, NS, 'never-created', { metadata: { labels: { a: 'b' } } })).rejects.toBeInstanceOf(NotFoundError);
    // A wrong plural must not pass for "not found": that is the first-contact bug the tier exists for.
    await expect(api.get({ ...R.vm, plural: 'virtualmachinez' }, NS, 'twice')).rejects.toBeInstanceOf(NotServedError);

    const vm = await api.get<Obj>(R.vm, NS, 'twice');
    await api.patch(R.vm, NS, 'twice', { metadata: { labels: { step: '1' } } });
    const stale = await api
      .patch(R.vm, NS, 'twice', { metadata: { resourceVersion: vm!.metadata.resourceVersion, labels: { step: '2' } } })
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(TransientError);
    expect((stale as Error).message).toMatch(/modified/);

    const nobody = new ClientNodeObjectApi(kubeConfigOf(cluster, await cluster.createServiceAccountToken('vm-templates', 'default')));
    const refused = await nobody.list(R.secret, 'vm-templates').catch((e: unknown) => e);
    nobody.close();
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).not.toBeInstanceOf(TransientError);
    expect((refused as Error).message).toMatch(/forbidden/);
  });

  it('merge-patches a custom resource and its status subresource (JSON merge patch on the wire)', async () => {
    await api.create(testVm('patched'));
    // A custom resource refuses strategic merge patch (415), client-node's old default: success proves the content type.
    const strategic = await cluster.request(
      'PATCH',
      `/apis/kubevirt.io/v1/namespaces/${NS}/virtualmachines/patched`,
      { metadata: { labels: { a: 'b' } } },
      { contentType: 'application/strategic-merge-patch+json' },
    );
    expect(strategic.status).toBe(415);
    await api.patch(R.vm, NS, 'patched', { metadata: { labels: { added: 'yes', suite: null } }, spec: { runStrategy: 'Always' } });
    await api.patchStatus(R.vm, NS, 'patched', { printableStatus: 'Running', ready: true });
    const vm = await api.get<Obj>(R.vm, NS, 'patched');
    expect(vm!.metadata.labels).toEqual({ added: 'yes' });
    expect(vm!.spec.runStrategy).toBe('Always');
    expect(vm!.status).toMatchObject({ printableStatus: 'Running', ready: true });
    // The main resource ignores status, and strict validation covers patches too.
    await api.patch(R.vm, NS, 'patched', { status: { ready: false } });
    expect((await api.get<Obj>(R.vm, NS, 'patched'))!.status.ready).toBe(true);
    await expect(api.patch(R.vm, NS, 'patched', { spec: { runStratgy: 'Halted' } })).rejects.toThrow(/unknown field "spec\.runStratgy"/);
  });

  it('deletes in the background and treats a missing object as deleted', async () => {
    await api.create(testVm('doomed'));
    await api.delete(R.vm, NS, 'doomed');
    await api.delete(R.vm, NS, 'doomed');
    expect(await api.get(R.vm, NS, 'doomed')).toBeNull();
  });

  it('counts every request, watches included', async () => {
    const before = api.requestCount;
    const list = await api.list(R.vm, NS);
    await api.get(R.vm, NS, 'twice');
    const watch = await api.watch(
      R.vm,
      NS,
      { resourceVersion: list.resourceVersion },
      () => {},
      () => {},
    );
    watch.stop();
    expect(api.requestCount - before).toBe(3);
  });

  it('streams events, and reports the server ending the watch exactly once', async () => {
    const list = await api.list(R.vm, NS);
    const r = recorder();
    await api.watch<Obj>(R.vm, NS, { resourceVersion: list.resourceVersion }, r.onEvent, r.onClose);
    await api.create(testVm('watched'));
    await api.patch(R.vm, NS, 'watched', { metadata: { labels: { seen: 'yes' } } });
    await api.delete(R.vm, NS, 'watched');
    // timeoutSeconds=2: the server closes the stream, which is a normal end (no error).
    await eventually('the server to end the watch', 10_000, async () => r.closes.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(r.events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
    expect(r.closes).toEqual(['no error']);
    // The pooled connection the finished watch used still serves requests.
    expect(await api.list(R.vm, NS)).toBeTruthy();
  });

  it('reports a watch from a too old resourceVersion (410 Gone) once, as a retryable error', async () => {
    const r = recorder();
    await api.watch<Obj>(R.vm, NS, { resourceVersion: '1' }, r.onEvent, r.onClose);
    await eventually('the watch to end', 10_000, async () => r.closes.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(r.closes).toHaveLength(1);
    expect(r.closes[0]).toBeInstanceOf(TransientError);
    expect(String(r.closes[0])).toMatch(/too old resource version|Expired|Gone/i);
  });

  it('reports a dead API server once to a watch and as retryable errors, and the informer recovers after the restart', async () => {
    // Default watch timeouts (minutes): here a watch can only end because the server died.
    const longWatches = new ClientNodeObjectApi(kubeConfigOf(cluster));
    const list = await longWatches.list(R.vm, NS);
    const r = recorder();
    await longWatches.watch<Obj>(R.vm, NS, { resourceVersion: list.resourceVersion }, r.onEvent, r.onClose);
    let seen: ReadonlyMap<string, Obj> = new Map();
    const informer = new Informer<Obj>({
      api: longWatches,
      type: R.vm,
      namespace: NS,
      onChange: (objects) => (seen = new Map(objects)),
      retryMs: 100,
    });
    informer.start();
    await eventually('the informer to list', 10_000, async () => seen.size > 0);

    await cluster.stopApiServer();
    await eventually('the watch to end', 10_000, async () => r.closes.length > 0);
    expect(r.closes[0]).toBeInstanceOf(TransientError);
    const down = await longWatches.get(R.vm, NS, 'twice').catch((e: unknown) => e);
    expect(down).toBeInstanceOf(TransientError);
    expect((down as Error).message).toMatch(/cannot reach the Kubernetes API server/);

    await cluster.startApiServer();
    await longWatches.create(testVm('after-restart'));
    // The informer re-listed and watched again on its own.
    await eventually('the informer to see the new VM', 30_000, async () => seen.has(`${NS}/after-restart`));
    informer.stop();
    longWatches.close();
    expect(r.closes).toHaveLength(1);
  });

  it('waits with a real watch: waitFor sees a status change made afterwards', async () => {
    await api.create(testVm('awaited'));
    const waited = waitFor<Obj>({
      api,
      type: R.vm,
      namespace: NS,
      deadlineAt: Date.now() + 15_000,
      label: 'awaited ready',
      evaluate: (objects) => (objects.get(`${NS}/awaited`)?.status?.ready ? { done: true } : { done: false, waitingFor: 'ready' }),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await api.patchStatus(R.vm, NS, 'awaited', { ready: true });
    await waited;
  });
});
