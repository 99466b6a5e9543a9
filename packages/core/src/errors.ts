/**
 * Domain errors. Each maps to one tRPC code in the web app, so callers get a clear, typed error.
 * `transient` errors are retried by the orchestrator within the step deadline.
 */
export class DomainError extends Error {
  override name = 'DomainError';
}
// Names are spelled out: minified production bundles rename classes, and the API maps errors by name.
export class ValidationError extends DomainError {
  override name = 'ValidationError';
}
export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
}
export class ConflictError extends DomainError {
  override name = 'ConflictError';
}
export class PreconditionError extends DomainError {
  override name = 'PreconditionError';
}
export class LimitError extends DomainError {
  override name = 'LimitError';
}
export class DeadlineError extends DomainError {
  override name = 'DeadlineError';
}
/** The cluster reported a failure of the thing we wait for (a failed clone, a partial snapshot…). */
export class ClusterFailure extends DomainError {
  override name = 'ClusterFailure';
}
/** A call that may succeed when repeated (HTTP 5xx, 409, 429, connection reset). */
export class TransientError extends DomainError {
  override name = 'TransientError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
