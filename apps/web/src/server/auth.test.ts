import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LabDatabase, openDatabase } from '@cks-lab/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OIDC_PROVIDER_ID } from '../lib/auth-client';
import { createAuth } from './auth';

/**
 * OIDC as configured from the environment: the sign-in sends the browser to the issuer found by
 * discovery, with this client's id, PKCE and cks-lab's callback. (The issuer here is a local
 * discovery document; the library does the rest of the protocol.)
 */
let issuer: Server;
let issuerUrl: string;
let database: LabDatabase;

beforeAll(async () => {
  issuer = createServer((req, res) => {
    if (req.url !== '/realms/lab/.well-known/openid-configuration') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        issuer: `${issuerUrl}/realms/lab`,
        authorization_endpoint: `${issuerUrl}/realms/lab/authorize`,
        token_endpoint: `${issuerUrl}/realms/lab/token`,
        userinfo_endpoint: `${issuerUrl}/realms/lab/userinfo`,
        jwks_uri: `${issuerUrl}/realms/lab/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      }),
    );
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
  issuerUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
  database = openDatabase(':memory:');
});

afterAll(() => {
  issuer?.close();
  database?.close();
});

describe('OIDC sign-in', () => {
  it('redirects to the issuer’s authorization endpoint with the client id, PKCE and our callback', async () => {
    const auth = createAuth({
      database,
      secret: 'test-secret-0123456789abcdef0123456789',
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      config: {
        secret: undefined,
        publicUrl: 'https://lab.example.org',
        firstAdmin: null,
        oidc: { issuer: `${issuerUrl}/realms/lab`, clientId: 'cks-lab', clientSecret: 'client-secret', name: 'Example SSO' },
        sessionStartsPerHour: 12,
      },
    });
    const response = await auth.handler(
      new Request('https://lab.example.org/api/auth/sign-in/social', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://lab.example.org' },
        body: JSON.stringify({ provider: OIDC_PROVIDER_ID, callbackURL: '/sessions' }),
      }),
    );
    expect(response.status).toBe(200);
    const { url } = (await response.json()) as { url: string };
    const target = new URL(url);
    expect(`${target.origin}${target.pathname}`).toBe(`${issuerUrl}/realms/lab/authorize`);
    expect(Object.fromEntries(target.searchParams)).toMatchObject({
      client_id: 'cks-lab',
      response_type: 'code',
      redirect_uri: 'https://lab.example.org/api/auth/callback/oidc',
      code_challenge_method: 'S256',
      scope: expect.stringContaining('openid'),
    });
    expect(target.searchParams.get('state')).toBeTruthy();
  });
});
