import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { ZodError } from 'zod';
import { tokenMatches } from '../admin-token';
import { getRuntime, type Runtime } from '../runtime';

export interface Context {
  runtime: Runtime;
  /** The bearer token the caller presented, if any. */
  token: string | null;
}

export async function createContext({ req }: { req: Request }): Promise<Context> {
  const header = req.headers.get('authorization') ?? '';
  const token = header.toLowerCase().startsWith('bearer ') ? header.slice(7).trim() : null;
  return { runtime: await getRuntime(), token };
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // Input errors read as one sentence, not as zod's JSON list of issues.
    if (error.cause instanceof ZodError) {
      return { ...shape, message: error.cause.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') };
    }
    return shape;
  },
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

const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause) throw asTRPCError(result.error.cause);
  return result;
});

export const router = t.router;
export const publicProcedure = t.procedure.use(domainErrors);

/** Admin operations need the admin token: missing → UNAUTHORIZED, wrong → FORBIDDEN. */
export const adminProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.token) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'admin token required (Authorization: Bearer <token>)' });
  if (!tokenMatches(ctx.runtime.adminToken, ctx.token)) throw new TRPCError({ code: 'FORBIDDEN', message: 'the admin token is not valid' });
  return next();
});
