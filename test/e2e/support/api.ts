/** Plain HTTP against the API, as any client (or attacker) would send it: no typed client, no browser. */

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

async function answer(response: Response): Promise<ApiAnswer> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a page, an SSE stream): keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

/** A query: GET with the input in the address. */
export async function query(base: string, path: string, input?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  const search = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return answer(await fetch(`${base}/api/trpc/${path}${search}`, { headers }));
}

/** A mutation: POST with a JSON body, as the pages and the CLI send it. */
export async function mutate(base: string, path: string, input?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
  return answer(
    await fetch(`${base}/api/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: input === undefined ? undefined : JSON.stringify(input),
    }),
  );
}

/** The tRPC error code of an answer (`UNAUTHORIZED`, `NOT_FOUND`…), or OK. */
export function codeOf(result: ApiAnswer): string {
  return result.status === 200 ? 'OK' : (result.body?.error?.data?.code ?? `HTTP ${result.status}`);
}

/** Signs in as a browser on this site would (same-origin fetch) and returns the cookie header to send. */
export async function signIn(base: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${base}/api/auth/sign-in/username`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base, 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw new Error(`sign-in as ${username}: HTTP ${response.status} ${await response.text()}`);
  return response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';', 1)[0])
    .join('; ');
}

/** Headers of a same-origin request from a signed-in page. */
export function asBrowser(base: string, cookie: string): Record<string, string> {
  return { cookie, origin: base, 'sec-fetch-site': 'same-origin' };
}

/** Polls `read` every 250 ms until `done` holds, failing with the last value after `timeoutMs`. */
export async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > giveUpAt) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A tRPC answer's data. */
export const data = (answer: ApiAnswer) => answer.body.result.data;
