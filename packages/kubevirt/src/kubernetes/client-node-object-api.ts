import { randomInt } from 'node:crypto';
import { NotFoundError, ValidationError } from '@cks-lab/core';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, ListResult, ObjectApi, WatchEvent, WatchHandle } from '../object-api';
import { apiVersionOf, type ResourceType, resourceTypeOf } from '../resources';
import { KubeTransport } from './kube-transport';
import { openWatchStream } from './watch-stream';

export interface ClientNodeObjectApiOptions {
  /** Per-request deadline (connection and answer); default 30 s. */
  requestTimeoutMs?: number;
  /**
   * Range of the server-side watch timeout, in seconds. The server ends each watch within it, so
   * informers re-list regularly instead of trusting one stream for ever; default 240–300 s, the
   * randomness keeps many watches from ending together. Tests shorten it.
   */
  watchTimeoutSeconds?: readonly [min: number, max: number];
}

const MERGE_PATCH = 'application/merge-patch+json';
/** How long a watch may outlive its server-side timeout before it is considered dead. */
const WATCH_GRACE_SECONDS = 30;

/**
 * The ObjectApi on a real API server. Wire behaviour, on purpose:
 * - create and patch with `fieldValidation=Strict`: an unknown or misspelt field is an error, not
 *   silently dropped by the server;
 * - every patch is a JSON merge patch (`application/merge-patch+json`), the one patch type both
 *   custom resources and built-in types accept; `patchStatus` patches the `/status` subresource;
 * - delete with `propagationPolicy=Background`, a missing object being success;
 * - watches with bookmarks and a server-side timeout (see `openWatchStream` for their end).
 */
export class ClientNodeObjectApi implements ObjectApi {
  readonly transport: KubeTransport;
  private readonly watchTimeout: readonly [number, number];

  constructor(kc: KubeConfig, options: ClientNodeObjectApiOptions = {}) {
    this.transport = new KubeTransport(kc, options.requestTimeoutMs);
    this.watchTimeout = options.watchTimeoutSeconds ?? [240, 300];
  }

  get requestCount(): number {
    return this.transport.requestCount;
  }

  get server(): string {
    return this.transport.server;
  }

  async create<T extends KubeObject>(object: T): Promise<T> {
    const type = resourceTypeOf(object);
    const { namespace, name } = object.metadata;
    return this.transport.json<T>({
      method: 'POST',
      path: collectionPath(type, requireNamespace(type, namespace, name)),
      query: { fieldValidation: 'Strict' },
      body: object,
      operation: `create ${describe(type, namespace, name)}`,
    });
  }

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | null> {
    try {
      return await this.transport.json<T>({
        method: 'GET',
        path: objectPath(type, namespace, name),
        operation: `get ${describe(type, namespace, name)}`,
      });
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, namespace?: string, labelSelector?: string): Promise<ListResult<T>> {
    const list = await this.transport.json<{ items: T[]; metadata: { resourceVersion: string } }>({
      method: 'GET',
      path: collectionPath(type, namespace),
      query: { labelSelector },
      operation: `list ${type.plural}${namespace ? ` in ${namespace}` : ''}`,
    });
    // Items of built-in lists come without their type; callers get whole objects, as from get.
    const typed = { apiVersion: apiVersionOf(type), kind: type.kind };
    return { items: list.items.map((item) => ({ ...typed, ...item })), resourceVersion: list.metadata.resourceVersion };
  }

  async patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: object): Promise<T> {
    return this.mergePatch<T>(objectPath(type, namespace, name), patch, `patch ${describe(type, namespace, name)}`);
  }

  async patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: object): Promise<T> {
    return this.mergePatch<T>(
      `${objectPath(type, namespace, name)}/status`,
      { status },
      `patch status of ${describe(type, namespace, name)}`,
    );
  }

  async delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.transport.json({
        method: 'DELETE',
        path: objectPath(type, namespace, name),
        query: { propagationPolicy: 'Background' },
        operation: `delete ${describe(type, namespace, name)}`,
      });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }

  async watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: { resourceVersion: string; labelSelector?: string },
    onEvent: (event: WatchEvent<T>) => void,
    onClose: (error?: unknown) => void,
  ): Promise<WatchHandle> {
    const [min, max] = this.watchTimeout;
    const timeoutSeconds = randomInt(min, max + 1);
    return openWatchStream<T>({
      transport: this.transport,
      path: collectionPath(type, namespace),
      query: {
        watch: '1',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: String(timeoutSeconds),
        labelSelector: options.labelSelector,
      },
      operation: `watch ${type.plural}${namespace ? ` in ${namespace}` : ''}`,
      maxLifetimeMs: (timeoutSeconds + WATCH_GRACE_SECONDS) * 1000,
      onEvent,
      onClose,
    });
  }

  /** Closes pooled connections; open watches end (their onClose is called). */
  close(): void {
    this.transport.close();
  }

  private mergePatch<T>(path: string, body: object, operation: string): Promise<T> {
    return this.transport.json<T>({
      method: 'PATCH',
      path,
      query: { fieldValidation: 'Strict' },
      body,
      contentType: MERGE_PATCH,
      operation,
    });
  }
}

/** `/api/v1/...` for the core group, `/apis/<group>/<version>/...` otherwise. */
function collectionPath(type: ResourceType, namespace?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const scope = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${type.plural}`;
}

function objectPath(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${collectionPath(type, requireNamespace(type, namespace, name))}/${encodeURIComponent(name)}`;
}

function requireNamespace(type: ResourceType, namespace: string | undefined, name: string): string | undefined {
  if (type.namespaced && !namespace) throw new ValidationError(`${type.kind} ${name} is namespaced: a namespace is required`);
  return type.namespaced ? namespace : undefined;
}

function describe(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.kind} ${type.namespaced && namespace ? `${namespace}/` : ''}${name}`;
}
