import { TransientError } from '@cks-lab/core';
import type { KubeObject, ObjectApi, WatchEvent, WatchHandle } from '../object-api';
import type { ResourceType } from '../resources';

/**
 * The platform's own view of the simulated API: it counts the platform's requests apart from the
 * simulated controllers' (benchmarks report requests per session) and, with the `api-error` fault,
 * fails one call in `failEvery` with HTTP 500. Which calls fail follows a fixed pseudo-random
 * sequence of the call number: deterministic, so runs are reproducible, yet never in step with a
 * retry loop — failing strictly every n-th call can hit the same call of every retry for ever
 * (a retry of n calls, or of two attempts that add up to a multiple of n), which no API server does.
 * The simulated controllers use the inner API: the fault is the platform's to survive.
 */
export class PlatformObjectApi implements ObjectApi {
  private calls = 0;

  constructor(
    private readonly inner: ObjectApi,
    private readonly failEvery: number | null,
  ) {}

  get requestCount(): number {
    return this.calls;
  }

  private call(what: string): void {
    this.calls++;
    if (this.failEvery && scramble(this.calls) % this.failEvery === 0) {
      throw new TransientError(`simulated API error: 500 Internal Server Error on ${what}`);
    }
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    this.call(`create ${object.kind}`);
    return this.inner.create(object);
  }
  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | null> {
    this.call(`get ${type.kind}`);
    return this.inner.get<T>(type, namespace, name);
  }
  async list<T extends KubeObject>(type: ResourceType, namespace?: string, labelSelector?: string) {
    this.call(`list ${type.kind}`);
    return this.inner.list<T>(type, namespace, labelSelector);
  }
  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: object): Promise<T> {
    this.call(`patch ${type.kind}`);
    return this.inner.patch<T>(type, namespace, name, patch);
  }
  async patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: object): Promise<T> {
    this.call(`patch ${type.kind} status`);
    return this.inner.patchStatus<T>(type, namespace, name, status);
  }
  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    this.call(`delete ${type.kind}`);
    return this.inner.delete(type, namespace, name);
  }
  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: { resourceVersion: string; labelSelector?: string },
    onEvent: (event: WatchEvent<T>) => void,
    onClose: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    this.call(`watch ${type.kind}`);
    return this.inner.watch(type, namespace, options, onEvent, onClose);
  }
}

/** A 32-bit integer hash (the "lowbias32" mix): consecutive inputs give unrelated outputs. */
function scramble(n: number): number {
  let x = n >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
