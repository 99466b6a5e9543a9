/**
 * What every API request passes before tRPC or better-auth sees it: state changes only as JSON
 * (a cross-site HTML form can send only form or text bodies), only from this site when a cookie
 * vouches for the caller, and bodies no larger than `maxBodyBytes`, read so that a larger one is
 * never held in memory.
 */

const MAX_BODY_BYTES = 1024 * 1024;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardOptions {
  maxBodyBytes?: number;
  /** The public address (LAB_PUBLIC_URL) when the server sits behind a proxy; the request's own otherwise. */
  publicOrigin?: string;
}

/** The request to pass on (its body read and bounded), or the refusal to answer with. */
export async function guardRequest(req: Request, options: GuardOptions = {}): Promise<Request | Response> {
  if (SAFE_METHODS.has(req.method)) return req;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;

  const contentType = (req.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return refuse(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `requests that change something take a JSON body (content-type: application/json), not "${contentType || 'none'}"`,
    );
  }
  if (req.headers.has('cookie') && !sameOrigin(req, options.publicOrigin)) {
    return refuse(403, 'FORBIDDEN', 'cross-site request refused: a signed-in change must come from this site');
  }
  const declared = Number(req.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBodyBytes) return tooLarge(maxBodyBytes);
  const body = await readBounded(req, maxBodyBytes);
  if (body === null) return tooLarge(maxBodyBytes);
  return new Request(req.url, { method: req.method, headers: req.headers, body, signal: req.signal });
}

/**
 * Fetch Metadata when the browser sends it (all current ones do), else the Origin header. A cookie
 * with neither is not from a page of ours, so it is refused too.
 */
function sameOrigin(req: Request, publicOrigin: string | undefined): boolean {
  const site = req.headers.get('sec-fetch-site');
  if (site) return site === 'same-origin' || site === 'none';
  const origin = req.headers.get('origin');
  if (!origin) return false;
  return origin === new URL(req.url).origin || origin === publicOrigin;
}

/** The body, or null as soon as it passes the limit (the rest is never read). */
async function readBounded(req: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

function tooLarge(maxBytes: number): Response {
  return refuse(413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`);
}

/** Refusals in tRPC's error shape, so the typed client reads them like any other error. */
export function refuse(status: number, code: string, message: string): Response {
  return Response.json({ error: { message, code: -32600, data: { code, httpStatus: status } } }, { status });
}
