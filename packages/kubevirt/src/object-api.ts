import { ConflictError } from '@cks-lab/core';
import type { ResourceType } from './resources';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  ownerReferences?: Array<{
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  stop(): void;
}

/**
 * The slice of the Kubernetes API that cks-lab uses. Implemented against a real API server with
 * @kubernetes/client-node and in memory for the simulator; the cluster adapter and the simulated
 * controllers are written once, against this.
 *
 * Errors: AlreadyExistsError on create of an existing name; core TransientError for 409 conflicts,
 * 429, 5xx and connection failures; core ValidationError for 400/422 (strict field validation).
 * `get` returns null and `delete` resolves when the object does not exist.
 */
export interface ObjectApi {
  create<T extends KubeObject>(object: T): Promise<T>;
  get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | null>;
  list<T extends KubeObject>(type: ResourceType, namespace?: string, labelSelector?: string): Promise<ListResult<T>>;
  /** JSON merge patch (application/merge-patch+json), the only patch type custom resources accept. */
  patch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, patch: object): Promise<T>;
  /** Merge patch of the status subresource (what controllers write). */
  patchStatus<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, status: object): Promise<T>;
  delete(type: ResourceType, namespace: string | undefined, name: string): Promise<void>;
  /**
   * Streams changes after `resourceVersion`. `onClose` is called once when the stream ends for any
   * reason (error or server timeout); callers re-list and watch again.
   */
  watch<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    options: { resourceVersion: string; labelSelector?: string },
    onEvent: (event: WatchEvent<T>) => void,
    onClose: (error?: unknown) => void,
  ): Promise<WatchHandle>;
  /** Number of API requests made so far (benchmarks report requests per session). */
  readonly requestCount: number;
}

export class AlreadyExistsError extends ConflictError {
  override name = 'AlreadyExistsError';
}
