import { randomUUID } from 'node:crypto';
import { NotFoundError, TransientError, ValidationError } from '@cks-lab/core';
import { applyMergePatch } from '../merge-patch';
import { AlreadyExistsError, type KubeObject, type ListResult, type ObjectApi, type WatchEvent, type WatchHandle } from '../object-api';
import { apiVersionOf, R, type ResourceType } from '../resources';

type Listener = { type: ResourceType; namespace?: string; selector: LabelSelector; onEvent: (e: WatchEvent) => void };
type LabelSelector = (labels: Record<string, string> | undefined) => boolean;
type Recorded = { revision: number; type: ResourceType; event: WatchEvent };

/** Events kept for watches that start from an older resourceVersion (the API server's watch cache). */
const WATCH_HISTORY = 10_000;

export interface MemoryObjectApiOptions {
  /** Called after every change with the changed object, for persistence. */
  onMutation?: (event: WatchEvent) => void;
  /** How long a deleted namespace stays Terminating before it disappears (the namespace controller). */
  namespaceTerminationMs?: number;
}

/** Added to every PVC by the API server's StorageObjectInUseProtection admission plugin. */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';

/**
 * An in-memory Kubernetes API with the semantics our code relies on: resourceVersions, watches,
 * AlreadyExists, status subresources, finalizers, owner-reference garbage collection and namespace
 * termination.
 */
export class MemoryObjectApi implements ObjectApi {
  private readonly objects = new Map<string, KubeObject>();
  private readonly listeners = new Set<Listener>();
  /** Terminating namespaces whose contents have been deleted: they go once the last finalized object has. */
  private readonly emptying = new Set<string>();
  /** Recent events in revision order: a watch from a list's resourceVersion misses none made since. */
  private readonly history: Recorded[] = [];
  /** The oldest resourceVersion a watch can start from; older ones are told to re-list (410 Gone). */
  private oldestWatchable = 0;
  private revision = 0;
  private requests = 0;

  constructor(private readonly options: MemoryObjectApiOptions = {}) {}

  get requestCount(): number {
    return this.requests;
  }

  /** Loads objects (from the simulator's state file) without emitting events. */
  load(objects: KubeObject[]): void {
    for (const object of objects) {
      this.objects.set(keyOf(typeOf(object), object.metadata.namespace, object.metadata.name), object);
      this.revision = Math.max(this.revision, Number(object.metadata.resourceVersion ?? 0));
    }
    this.history.length = 0;
    this.oldestWatchable = this.revision;
    // A namespace whose termination was interrupted by a restart finishes terminating now.
    for (const object of objects) {
      if (object.kind === 'Namespace' && object.metadata.deletionTimestamp) {
        delete object.metadata.deletionTimestamp;
        this.terminateNamespace(object);
      }
    }
  }

  all(): KubeObject[] {
    return [...this.objects.values()].map((o) => structuredClone(o));
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    this.requests++;
    const type = typeOf(object);
    const { name, namespace } = object.metadata;
    if (!name) throw new ValidationError(`${object.kind}: metadata.name is required`);
    if (type.namespaced) {
      const ns = this.objects.get(keyOf(R.namespace, undefined, namespace ?? ''));
      if (!ns) throw new NotFoundError(`namespaces "${namespace}" not found`);
      if (ns.metadata.deletionTimestamp) {
        throw new ValidationError(`namespace ${namespace} is being terminated; cannot create ${object.kind} ${name}`);
      }
    }
    const key = keyOf(type, namespace, name);
    if (this.objects.has(key)) throw new AlreadyExistsError(`${type.plural} "${name}" already exists`);
    const stored = structuredClone(object) as T;
    const finalizers =
      type === R.pvc ? [...new Set([...(stored.metadata.finalizers ?? []), PVC_PROTECTION_FINALIZER])] : stored.metadata.finalizers;
    delete stored.metadata.deletionTimestamp;
    stored.metadata = {
      ...stored.metadata,
      ...(finalizers?.length ? { finalizers } : {}),
      uid: randomUUID(),
      resourceVersion: String(++this.revision),
      generation: 1,
      creationTimestamp: new Date().toISOString(),
    };
    if (type === R.namespace) (stored as KubeObject).status = { phase: 'Active' };
    this.objects.set(key, stored);
    this.emit('ADDED', type, stored);
    return structuredClone(stored);
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | null> {
    this.requests++;
    const found = this.objects.get(keyOf(type, namespace, name));
    return found ? (structuredClone(found) as T) : null;
  }

  async list<T extends KubeObject>(type: ResourceType, namespace?: string, labelSelector?: string): Promise<ListResult<T>> {
    this.requests++;
    const selector = parseSelector(labelSelector);
    const items = [...this.objects.values()].filter(
      (o) => matchesType(o, type) && (!namespace || o.metadata.namespace === namespace) && selector(o.metadata.labels),
    );
    return { items: items.map((o) => structuredClone(o) as T), resourceVersion: String(this.revision) };
  }

  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: object): Promise<T> {
    this.requests++;
    return this.update<T>(type, namespace, name, (current) => {
      const { status: _ignored, ...rest } = patch as Record<string, unknown>;
      const next = applyMergePatch(current, rest) as KubeObject;
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) {
        next.metadata.generation = (current.metadata.generation ?? 1) + 1;
      }
      return next;
    });
  }

  async patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: object): Promise<T> {
    this.requests++;
    return this.update<T>(type, namespace, name, (current) => applyMergePatch(current, { status }) as KubeObject);
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    this.requests++;
    this.remove(type, namespace, name);
  }

  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: { resourceVersion: string; labelSelector?: string },
    onEvent: (event: WatchEvent<T>) => void,
    onClose: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    this.requests++;
    const listener: Listener = {
      type,
      namespace,
      selector: parseSelector(options.labelSelector),
      onEvent: onEvent as (e: WatchEvent) => void,
    };
    const from = Number(options.resourceVersion);
    if (Number.isFinite(from) && from < this.oldestWatchable) {
      queueMicrotask(() => onClose(new TransientError(`too old resource version: ${from} (${this.oldestWatchable})`)));
      return { stop: () => undefined };
    }
    // Replays what changed since the caller's list, as the API server does for a watch from its
    // resourceVersion; queued before any later event, so the order holds.
    if (Number.isFinite(from)) {
      for (const recorded of this.history) {
        if (recorded.revision > from && recorded.type === type && delivers(listener, recorded.event.object))
          deliver(listener, recorded.event);
      }
    }
    this.listeners.add(listener);
    return { stop: () => this.listeners.delete(listener) };
  }

  private update<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (current: KubeObject) => KubeObject,
  ): T {
    const key = keyOf(type, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw new NotFoundError(`${type.plural} "${name}" not found`);
    const next = change(structuredClone(current));
    // Only the API server sets the deletion timestamp, and once set it stays.
    const deletionTimestamp = type === R.namespace ? next.metadata.deletionTimestamp : current.metadata.deletionTimestamp;
    next.metadata = { ...next.metadata, deletionTimestamp, uid: current.metadata.uid, resourceVersion: String(++this.revision) };
    if (!deletionTimestamp) delete next.metadata.deletionTimestamp;
    if (type !== R.namespace && deletionTimestamp && !next.metadata.finalizers?.length) {
      // The last finalizer of an object being deleted is gone: the object goes.
      this.erase(type, key, next);
      return structuredClone(next) as T;
    }
    this.objects.set(key, next);
    this.emit('MODIFIED', type, next);
    return structuredClone(next) as T;
  }

  private remove(type: ResourceType, namespace: string | undefined, name: string): void {
    const key = keyOf(type, namespace, name);
    const current = this.objects.get(key);
    if (!current) return;
    if (type === R.namespace) {
      this.terminateNamespace(current);
      return;
    }
    if (current.metadata.finalizers?.length) {
      // Finalizers hold the object, marked for deletion, until their controllers remove them.
      if (!current.metadata.deletionTimestamp) {
        const marked = structuredClone(current);
        marked.metadata.deletionTimestamp = new Date().toISOString();
        marked.metadata.resourceVersion = String(++this.revision);
        this.objects.set(key, marked);
        this.emit('MODIFIED', type, marked);
      }
      return;
    }
    this.erase(type, key, current);
  }

  private erase(type: ResourceType, key: string, current: KubeObject): void {
    this.objects.delete(key);
    current.metadata.resourceVersion = String(++this.revision);
    this.emit('DELETED', type, current);
    this.collectDependents(current.metadata.uid);
    const namespace = current.metadata.namespace;
    if (namespace && this.emptying.has(namespace)) this.finishNamespace(namespace);
  }

  /** What the namespace controller does: Terminating, contents deleted, then the namespace itself. */
  private terminateNamespace(namespace: KubeObject): void {
    if (namespace.metadata.deletionTimestamp) return;
    const name = namespace.metadata.name;
    this.update(R.namespace, undefined, name, (ns) => ({
      ...ns,
      metadata: { ...ns.metadata, deletionTimestamp: new Date().toISOString() },
      status: { phase: 'Terminating' },
    }));
    setTimeout(() => {
      this.emptying.add(name);
      for (const object of [...this.objects.values()]) {
        if (object.metadata.namespace === name) this.remove(typeOf(object), name, object.metadata.name);
      }
      this.finishNamespace(name);
    }, this.options.namespaceTerminationMs ?? 50).unref?.();
  }

  /** A terminating namespace disappears once nothing is left in it (finalized objects included). */
  private finishNamespace(name: string): void {
    if ([...this.objects.values()].some((object) => object.metadata.namespace === name)) return;
    this.emptying.delete(name);
    const key = keyOf(R.namespace, undefined, name);
    const ns = this.objects.get(key);
    if (!ns) return;
    this.objects.delete(key);
    ns.metadata.resourceVersion = String(++this.revision);
    this.emit('DELETED', R.namespace, ns);
  }

  /** Background cascading deletion, as the garbage collector does for ownerReferences. */
  private collectDependents(ownerUid: string | undefined): void {
    if (!ownerUid) return;
    for (const object of [...this.objects.values()]) {
      if (object.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) {
        this.remove(typeOf(object), object.metadata.namespace, object.metadata.name);
      }
    }
  }

  private emit(eventType: WatchEvent['type'], type: ResourceType, object: KubeObject): void {
    const event: WatchEvent = { type: eventType, object: structuredClone(object) };
    this.options.onMutation?.(event);
    this.history.push({ revision: Number(object.metadata.resourceVersion), type, event });
    if (this.history.length > WATCH_HISTORY) this.oldestWatchable = this.history.shift()!.revision;
    for (const listener of this.listeners) {
      if (listener.type === type && delivers(listener, object)) deliver(listener, event);
    }
  }
}

function delivers(listener: Listener, object: KubeObject): boolean {
  return (!listener.namespace || listener.namespace === object.metadata.namespace) && listener.selector(object.metadata.labels);
}

/** Asynchronously, like events arriving over a watch stream, and each listener its own copy. */
function deliver(listener: Listener, event: WatchEvent): void {
  const copy = { type: event.type, object: structuredClone(event.object) };
  queueMicrotask(() => listener.onEvent(copy));
}

function typeOf(object: KubeObject): ResourceType {
  const type = Object.values(R).find((t) => apiVersionOf(t) === object.apiVersion && t.kind === object.kind);
  if (!type) throw new ValidationError(`the simulated API does not serve ${object.apiVersion} ${object.kind}`);
  return type;
}

function matchesType(object: KubeObject, type: ResourceType): boolean {
  return object.kind === type.kind && object.apiVersion === apiVersionOf(type);
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.plural}.${type.group}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
}

/** Equality-based selectors (`a=b,c=d`), the only kind cks-lab uses. */
function parseSelector(selector: string | undefined): LabelSelector {
  if (!selector) return () => true;
  const pairs = selector.split(',').map((part) => part.split('=') as [string, string]);
  return (labels) => pairs.every(([k, v]) => labels?.[k] === v);
}
