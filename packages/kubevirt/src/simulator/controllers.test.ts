import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject, ObjectApi } from '../object-api';
import { apiVersionOf, R, type ResourceType } from '../resources';
import { waitFor } from '../wait';
import { SimulatedControllers } from './controllers';
import { DEFAULT_LATENCY_MODEL } from './latency-model';
import { MemoryObjectApi } from './memory-object-api';

type Obj = KubeObject & { spec?: any; status?: any };
const silent: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const NAMESPACE = 'user-session-c0000001';
const WRITE_MS = 5;

/** The memory API with a round trip on every write, recording the controllers' calls and the writes in flight per object. */
function slowApi(inner: MemoryObjectApi) {
  const calls: string[] = [];
  const inFlight = new Map<string, number>();
  let concurrent = 0;
  const seen = { maxConcurrent: 0, sameObjectTwice: false };
  const write = async <T>(type: ResourceType, name: string, run: () => Promise<T>): Promise<T> => {
    // A VM's reconcile writes the VM and its instance (same name): two at once would be one VM reconciled twice at once.
    const key = type === R.vmi || type === R.vm ? `vm/${name}` : `${type.plural}/${name}`;
    if (inFlight.get(key)) seen.sameObjectTwice = true;
    inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    seen.maxConcurrent = Math.max(seen.maxConcurrent, ++concurrent);
    try {
      await sleep(WRITE_MS);
      return await run();
    } finally {
      concurrent--;
      inFlight.set(key, inFlight.get(key)! - 1);
    }
  };
  const typeOf = (object: KubeObject) => Object.values(R).find((t) => apiVersionOf(t) === object.apiVersion && t.kind === object.kind)!;
  const recorded = <T>(call: string, run: () => Promise<T>): Promise<T> => {
    calls.push(call);
    return run();
  };
  const api: ObjectApi = {
    get requestCount() {
      return inner.requestCount;
    },
    create: (object) => recorded(`create ${object.kind}`, () => write(typeOf(object), object.metadata.name, () => inner.create(object))),
    get: (type, namespace, name) => recorded(`get ${type.kind}`, () => inner.get(type, namespace, name)),
    list: (type, namespace, selector) => recorded(`list ${type.kind}`, () => inner.list(type, namespace, selector)),
    patch: (type, namespace, name, patch) =>
      recorded(`patch ${type.kind}`, () => write(type, name, () => inner.patch(type, namespace, name, patch))),
    patchStatus: (type, namespace, name, status) =>
      recorded(`patchStatus ${type.kind}`, () => write(type, name, () => inner.patchStatus(type, namespace, name, status))),
    delete: (type, namespace, name) => recorded(`delete ${type.kind}`, () => write(type, name, () => inner.delete(type, namespace, name))),
    watch: (type, namespace, options, onEvent, onClose) => inner.watch(type, namespace, options, onEvent, onClose),
  };
  return { api, calls, seen };
}

function vm(name: string): Obj {
  return {
    apiVersion: apiVersionOf(R.vm),
    kind: R.vm.kind,
    metadata: { name, namespace: NAMESPACE, labels: { 'cks-lab.io/role': 'control-plane' } },
    spec: { runStrategy: 'Always', template: { spec: {} } },
  };
}

const running: SimulatedControllers[] = [];
afterEach(() => {
  for (const controllers of running.splice(0)) controllers.stop();
});

describe('SimulatedControllers', () => {
  it('reconciles different objects at once, never one object twice at once and never more than its workers, reading from its caches', async () => {
    const memory = new MemoryObjectApi();
    await memory.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    const { api, calls, seen } = slowApi(memory);
    const controllers = new SimulatedControllers({
      api,
      model: DEFAULT_LATENCY_MODEL,
      timeScale: 0.0001,
      faults: new Set(),
      logger: silent,
      workers: 4,
    });
    running.push(controllers);
    controllers.start();
    const vms = Array.from({ length: 12 }, (_, i) => `vm-${i}`);
    await Promise.all(vms.map((name) => memory.create(vm(name))));

    await waitFor<Obj>({
      api: memory,
      type: R.vm,
      namespace: NAMESPACE,
      deadlineAt: Date.now() + 20_000,
      label: 'every VM ready',
      evaluate: (objects) => {
        const waiting = vms.filter((name) => objects.get(`${NAMESPACE}/${name}`)?.status?.ready !== true);
        return waiting.length === 0 ? { done: true } : { done: false, waitingFor: waiting.join(', ') };
      },
    });

    expect(seen.sameObjectTwice).toBe(false);
    expect(seen.maxConcurrent).toBeGreaterThan(1);
    expect(seen.maxConcurrent).toBeLessThanOrEqual(4);
    // Listers, not requests: the only reads are the informers' lists.
    expect(calls.filter((call) => call.startsWith('get '))).toEqual([]);
    expect(calls.filter((call) => call.startsWith('list ')).length).toBe(8);
  });
});
