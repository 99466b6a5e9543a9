import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { guardRequest, refuse } from '~/server/http-guard';
import { identify } from '~/server/identity';
import { getRuntime } from '~/server/runtime';
import { errorText } from '~/server/trpc/init';
import { appRouter } from '~/server/trpc/root';

export const dynamic = 'force-dynamic';

/** The pages batch at most a handful of queries; a larger batch is not one of ours. */
const MAX_BATCH_SIZE = 10;

async function handler(incoming: Request): Promise<Response> {
  const runtime = await getRuntime();
  const req = await guardRequest(incoming, {
    publicOrigin: runtime.config.auth.publicUrl && new URL(runtime.config.auth.publicUrl).origin,
  });
  if (req instanceof Response) return req;
  const caller = await identify(runtime, req.headers);
  // Every procedure needs a caller. A live-progress stream would answer 200 and carry the error as
  // an event (tRPC's SSE protocol); nobody gets even that far.
  if (caller.ok && !caller.identity && req.headers.get('accept')?.includes('text/event-stream')) {
    return refuse(401, 'UNAUTHORIZED', 'sign in first');
  }
  return fetchRequestHandler({
    endpoint: '/api/trpc',
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: () => ({ runtime, caller }),
    onError({ error, path, type }) {
      const fields = { path, type, code: error.code, error: errorText(error) };
      // Callers' mistakes are worth a line (the reason is in the answer too); server faults get the stack.
      if (error.code === 'INTERNAL_SERVER_ERROR')
        runtime.logger.error({ ...fields, stack: error.cause?.stack ?? error.stack }, 'API call failed');
      else if (error.code !== 'UNAUTHORIZED' && error.code !== 'NOT_FOUND') runtime.logger.warn(fields, 'API call refused');
    },
  });
}

export { handler as GET, handler as POST };
