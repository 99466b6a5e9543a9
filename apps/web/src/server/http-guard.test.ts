import { describe, expect, it } from 'vitest';
import { guardRequest } from './http-guard';

const URL_ = 'http://lab.test/api/trpc/sessions.create';
const post = (headers: Record<string, string>, body: BodyInit | null = '{}') =>
  new Request(URL_, { method: 'POST', headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);

async function refusal(result: Request | Response) {
  expect(result).toBeInstanceOf(Response);
  const response = result as Response;
  return { status: response.status, body: (await response.json()) as { error: { message: string; data: { code: string } } } };
}

describe('guardRequest', () => {
  it('passes reads through untouched', async () => {
    const get = new Request(URL_, { headers: { cookie: 'a=b', 'sec-fetch-site': 'cross-site' } });
    expect(await guardRequest(get)).toBe(get);
  });

  it('refuses changes without a JSON body: the content types an HTML form can send', async () => {
    for (const type of ['multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'text/plain', '']) {
      const { status, body } = await refusal(await guardRequest(post(type ? { 'content-type': type } : {})));
      expect(status).toBe(415);
      expect(body.error.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await guardRequest(post({ 'content-type': 'application/json; charset=utf-8' }))).toBeInstanceOf(Request);
  });

  it('lets cookie-authenticated changes through from this site only', async () => {
    const json = { 'content-type': 'application/json', cookie: 'cks-lab.session_token=x' };
    const foreign: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://evil.test' },
      {},
    ];
    for (const headers of foreign) {
      const { status } = await refusal(await guardRequest(post({ ...json, ...headers })));
      expect(status).toBe(403);
    }
    expect(await guardRequest(post({ ...json, 'sec-fetch-site': 'same-origin' }))).toBeInstanceOf(Request);
    expect(await guardRequest(post({ ...json, origin: 'http://lab.test' }))).toBeInstanceOf(Request);
    expect(
      await guardRequest(post({ ...json, origin: 'https://lab.example.org' }), { publicOrigin: 'https://lab.example.org' }),
    ).toBeInstanceOf(Request);
    // Without a cookie there is nothing to forge: tools with the admin token send no Origin.
    expect(await guardRequest(post({ 'content-type': 'application/json', authorization: 'Bearer t' }))).toBeInstanceOf(Request);
  });

  it('refuses bodies over the limit, by their declared length or as they stream, without reading the rest', async () => {
    const declared = await refusal(
      await guardRequest(post({ 'content-type': 'application/json', 'content-length': '2000' }, 'x'.repeat(2000)), { maxBodyBytes: 1000 }),
    );
    expect(declared.status).toBe(413);

    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(100));
      },
    });
    const streamed = await refusal(await guardRequest(post({ 'content-type': 'application/json' }, endless), { maxBodyBytes: 1000 }));
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.message).toBe('the request body is larger than 1000 bytes');
    expect(pulled).toBeLessThan(15);

    const ok = await guardRequest(post({ 'content-type': 'application/json' }, JSON.stringify({ id: 'x' })), { maxBodyBytes: 1000 });
    expect(await (ok as Request).json()).toEqual({ id: 'x' });
  });
});
