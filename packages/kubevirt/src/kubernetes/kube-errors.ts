import { DomainError, NotFoundError, TransientError, ValidationError } from '@cks-lab/core';
import { AlreadyExistsError } from '../object-api';

/** The `Status` object a Kubernetes API server returns with every failed request. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  /** Names the object when the request was about one. */
  details?: { name?: string };
}

/** A 404 about a path the server does not serve at all (no CRD, wrong group/version/plural), not about a missing object. */
export class NotServedError extends DomainError {}

/** Network failures that a retry can cure: the server restarting, a dropped connection, a slow answer. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * Maps a failed response to the domain errors the orchestrator understands (see ObjectApi):
 * AlreadyExists, 409 conflicts, 410, 429 and 5xx are retried; 400/422 carry the server's validation
 * message (e.g. `unknown field "spec.foo"`); 403 and the rest are DomainErrors with the server's words
 * (for 403 they name the missing permission).
 */
export function httpError(operation: string, status: number, body: unknown): Error {
  const s = asStatus(body);
  const message = `${operation}: ${s.message ?? `HTTP ${status}`}`;
  if (status === 409 && s.reason === 'AlreadyExists') return new AlreadyExistsError(message);
  // 410 Gone: a watch or list continuation is too old; a fresh list cures it.
  if (status === 409 || status === 410 || status === 429 || status >= 500) return new TransientError(message);
  if (status === 400 || status === 422) return new ValidationError(message);
  if (status === 404) {
    // A missing object names itself in `details`; a path the server does not know does not.
    return s.details?.name ? new NotFoundError(message) : new NotServedError(`${message} (is the API installed?)`);
  }
  if (status === 401) return new DomainError(`${message} (the credentials in the kubeconfig were rejected)`);
  return new DomainError(message);
}

/** Maps a failure below HTTP (connection, TLS, timeout) to a domain error. */
export function networkError(operation: string, server: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  if (code && TRANSIENT_CODES.has(code)) {
    return new TransientError(`${operation}: cannot reach the Kubernetes API server at ${server} (${detail})`, { cause: error });
  }
  // Certificate problems and the like do not heal by retrying; say plainly what failed.
  return new DomainError(`${operation}: request to ${server} failed (${detail})`, { cause: error });
}

/** Error bodies arrive as JSON text (sometimes not JSON at all, e.g. from a proxy). */
export function asStatus(body: unknown): KubeStatus {
  if (typeof body === 'string') {
    try {
      return asStatus(JSON.parse(body));
    } catch {
      return body ? { message: body.slice(0, 500) } : {};
    }
  }
  return typeof body === 'object' && body !== null ? (body as KubeStatus) : {};
}
