import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import type { Identification } from '../identity';
import type { Runtime } from '../runtime';

export interface Context {
  runtime: Runtime;
  /** Who is asking (server/identity.ts). */
  caller: Identification;
}

/** Input errors read as one sentence, not as zod's JSON list of issues; others as they are. */
export function errorText(error: TRPCError): string {
  if (!(error.cause instanceof ZodError)) return error.message;
  return error.cause.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

const t = initTRPC.context<Context>().create({
  errorFormatter: ({ shape, error }) => ({ ...shape, message: errorText(error) }),
});

/**
 * Domain error classes by name: matched by name, not instanceof, because Next.js may bundle
 * @cks-lab/core once for the route and once for the runtime started by instrumentation.
 */
const CODES: Record<string, TRPC_ERROR_CODE_KEY> = {
  ValidationError: 'BAD_REQUEST',
  NotFoundError: 'NOT_FOUND',
  ConflictError: 'CONFLICT',
  AlreadyExistsError: 'CONFLICT',
  PreconditionError: 'PRECONDITION_FAILED',
  LimitError: 'TOO_MANY_REQUESTS',
  DeadlineError: 'TIMEOUT',
};

/** A domain error as a tRPC error with a proper code and the domain's own words; others unchanged. */
export function asTRPCError(error: unknown): unknown {
  const code = error instanceof Error ? CODES[error.name] : undefined;
  return code ? new TRPCError({ code, message: (error as Error).message, cause: error }) : error;
}

/** Domain errors get their code; everything else (input errors are BAD_REQUEST already) stays as it is. */
const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR' && result.error.cause) throw asTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
const procedure = t.procedure.use(domainErrors);

/**
 * Every procedure needs a caller: a signed-in account or the admin token. None → UNAUTHORIZED;
 * credentials that do not hold (a wrong token, `--as` an unknown account) say why.
 */
export const signedInProcedure = procedure.use(({ ctx, next }) => {
  const { caller } = ctx;
  if (!caller.ok) throw new TRPCError({ code: caller.code, message: caller.message });
  if (!caller.identity)
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'sign in first (or present the admin token: Authorization: Bearer <token>)' });
  return next({ ctx: { identity: caller.identity, actor: caller.identity.actor } });
});

/** Admin operations: an admin account or the admin token; a learner is FORBIDDEN. */
export const adminProcedure = signedInProcedure.use(({ ctx, next }) => {
  if (ctx.actor.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'this needs an admin account' });
  return next();
});
