import { guardRequest } from '~/server/http-guard';
import { getRuntime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/**
 * better-auth's endpoints (sign-in, sign-out, OIDC callbacks), behind the same guard as the API.
 * Password guessing is also limited per username: the library's own limit is per client address,
 * which it reads from X-Forwarded-For, and a client talking to the server directly sets that itself.
 */
async function handler(incoming: Request): Promise<Response> {
  const runtime = await getRuntime();
  const req = await guardRequest(incoming, {
    publicOrigin: runtime.config.auth.publicUrl && new URL(runtime.config.auth.publicUrl).origin,
  });
  if (req instanceof Response) return req;
  if (new URL(req.url).pathname === '/api/auth/sign-in/username') {
    const { username } = (await req
      .clone()
      .json()
      .catch(() => ({}))) as { username?: unknown };
    const taken = runtime.signInAttempts.take(typeof username === 'string' ? username.trim().toLowerCase() : '');
    if (!taken.ok) {
      const retryAfter = Math.ceil(taken.retryAfterMs / 1000);
      return Response.json(
        { message: `too many sign-in attempts for this account; try again in ${Math.ceil(retryAfter / 60)} min` },
        { status: 429, headers: { 'retry-after': String(retryAfter) } },
      );
    }
  }
  return runtime.auth.handler(req);
}

export { handler as GET, handler as POST };
