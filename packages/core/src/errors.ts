/**
 * Domain errors. Each maps to one tRPC code in the web app, so callers get a clear, typed error.
 * `transient` errors are retried by the orchestrator within the step deadline.
 */
export class DomainError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
export class ValidationError extends DomainError {}
export class NotFoundError extends DomainError {}
export class ConflictError extends DomainError {}
export class PreconditionError extends DomainError {}
export class LimitError extends DomainError {}
export class DeadlineError extends DomainError {}
/** The cluster reported a failure of the thing we wait for (a failed clone, a partial snapshot…). */
export class ClusterFailure extends DomainError {}
/** A call that may succeed when repeated (HTTP 5xx, 409, 429, connection reset). */
export class TransientError extends DomainError {}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
