import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/server/trpc/root';
import { CliError, connectionFrom, describeFailure } from './connection';

const connection = { url: 'http://lab.example:3000', token: 't', tokenSource: 'LAB_ADMIN_TOKEN' };

describe('the CLI connection', () => {
  it('takes LAB_URL and LAB_ADMIN_TOKEN, else the token the local server wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    expect(connectionFrom({ LAB_URL: 'http://x:1/', LAB_ADMIN_TOKEN: 'secret', LAB_DATA_DIR: dir })).toEqual({
      url: 'http://x:1',
      token: 'secret',
      tokenSource: 'LAB_ADMIN_TOKEN',
    });
    writeFileSync(join(dir, 'admin-token'), 'from-file\n');
    expect(connectionFrom({ LAB_DATA_DIR: dir })).toEqual({
      url: 'http://localhost:3000',
      token: 'from-file',
      tokenSource: join(dir, 'admin-token'),
    });
  });

  it('without a token names LAB_ADMIN_TOKEN and the token file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-cli-'));
    expect(() => connectionFrom({ LAB_DATA_DIR: dir })).toThrow(CliError);
    expect(() => connectionFrom({ LAB_DATA_DIR: dir })).toThrow(new RegExp(`LAB_ADMIN_TOKEN.*${join(dir, 'admin-token')}`));
  });

  it('names the URL it tried when the server cannot be reached', async () => {
    // Real calls of the CLI's client: to a port nothing listens on any more, and to one fetch refuses.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const failure = (url: string) =>
      createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/api/trpc` })] })
        .account.me.query()
        .catch((error: unknown) => error);
    const url = `http://127.0.0.1:${port}`;
    expect(describeFailure(await failure(url), { ...connection, url })).toBe(
      `cannot reach the server at ${url} (ECONNREFUSED): is it running (npm start)? LAB_URL sets where to look`,
    );
    expect(describeFailure(await failure('http://127.0.0.1:9'), { ...connection, url: 'http://127.0.0.1:9' })).toMatch(
      /^cannot reach the server at http:\/\/127.0.0.1:9 \(bad port\)/,
    );
  });

  it("says the server's refusals in one line, naming the token's source when it is refused", () => {
    const refused = new TRPCClientError('the admin token is not valid', { result: { error: { data: { code: 'FORBIDDEN' } } } as never });
    Object.assign(refused, { data: { code: 'FORBIDDEN' } });
    expect(describeFailure(refused, { ...connection, tokenSource: '/srv/data/admin-token' })).toBe(
      'the server refused the admin token from /srv/data/admin-token: the admin token is not valid (LAB_ADMIN_TOKEN overrides it)',
    );
    const missing = Object.assign(new TRPCClientError('session deadbeef does not exist\nat …'), { data: { code: 'NOT_FOUND' } });
    expect(describeFailure(missing, connection)).toBe('NOT_FOUND: session deadbeef does not exist');
  });
});
