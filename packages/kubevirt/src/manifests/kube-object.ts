import type { KubeObject, ObjectMeta } from '../object-api';
import { apiVersionOf, type ResourceType } from '../resources';

/** What a builder fills in of a typed API object: everything but its type fields, metadata and status. */
export type ObjectBody<T> = Omit<T, 'apiVersion' | 'kind' | 'metadata' | 'status'>;

/**
 * An object of a registered resource type, its body checked against the generated KubeVirt, CDI or
 * Kubernetes type `T` (so a misspelt field is a compile error), usable wherever a KubeObject is.
 */
export function kubeObject<T>(type: ResourceType, metadata: ObjectMeta, body: ObjectBody<T>): KubeObject & T {
  const object = { apiVersion: apiVersionOf(type), kind: type.kind, metadata, ...body };
  return object as unknown as KubeObject & T;
}
