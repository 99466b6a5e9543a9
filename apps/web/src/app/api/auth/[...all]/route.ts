import { guardRequest } from '~/server/http-guard';
import { getRuntime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** better-auth's endpoints (sign-in, sign-out, OIDC callbacks), behind the same guard as the API. */
async function handler(incoming: Request): Promise<Response> {
  const runtime = await getRuntime();
  const req = await guardRequest(incoming, { publicOrigin: runtime.config.auth.publicUrl && new URL(runtime.config.auth.publicUrl).origin });
  if (req instanceof Response) return req;
  return runtime.auth.handler(req);
}

export { handler as GET, handler as POST };
