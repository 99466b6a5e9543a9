import type { Logger } from '@cks-lab/core';
import { authAccounts, authSessions, authVerifications, type LabDatabase, users } from '@cks-lab/db';
import { betterAuth } from 'better-auth';
import { drizzleAdapter } from 'better-auth/adapters/drizzle';
import { APIError } from 'better-auth/api';
import { genericOAuth } from 'better-auth/plugins/generic-oauth';
import { username } from 'better-auth/plugins/username';
import { OIDC_PROVIDER_ID } from '../lib/auth-client';
import type { AuthConfig } from './config';

/**
 * Endpoints cks-lab does not offer: accounts are made by admins (or OIDC), not by sign-up; local
 * accounts sign in by username; a learner changes neither their name nor their address.
 */
const DISABLED_PATHS = [
  '/sign-up/email',
  '/sign-in/email',
  '/update-user',
  '/change-email',
  '/delete-user',
  '/request-password-reset',
  '/reset-password',
  '/send-verification-email',
  '/verify-email',
  '/is-username-available',
];

export interface AuthOptions {
  database: LabDatabase;
  secret: string;
  config: AuthConfig;
  logger: Logger;
}

/**
 * better-auth on the lab database (its tables are in packages/db's schema, migrated with the
 * rest): local accounts by username and password, hashed by the library, and OIDC when configured.
 */
export function createAuth({ database, secret, config, logger }: AuthOptions) {
  return betterAuth({
    appName: 'cks-lab',
    secret,
    baseURL: config.publicUrl,
    basePath: '/api/auth',
    database: drizzleAdapter(database.db, {
      provider: 'sqlite',
      schema: { user: users, session: authSessions, account: authAccounts, verification: authVerifications },
    }),
    emailAndPassword: { enabled: true, disableSignUp: true },
    disabledPaths: DISABLED_PATHS,
    user: {
      additionalFields: {
        role: { type: 'string', input: false, required: false, defaultValue: 'learner' },
        disabled: { type: 'boolean', input: false, required: false, defaultValue: false },
      },
    },
    databaseHooks: {
      session: {
        create: {
          // Disabling removes an account's sign-ins; this keeps it from signing in again (any method).
          async before(session) {
            const account = await database.accounts.get(session.userId);
            if (!account || account.disabled) throw new APIError('FORBIDDEN', { message: 'this account is disabled' });
          },
        },
      },
    },
    plugins: [
      username({ displayUsername: false }),
      ...(config.oidc
        ? [
            genericOAuth({
              config: [
                {
                  providerId: OIDC_PROVIDER_ID,
                  name: config.oidc.name,
                  discoveryUrl: `${config.oidc.issuer}/.well-known/openid-configuration`,
                  clientId: config.oidc.clientId,
                  clientSecret: config.oidc.clientSecret,
                  scopes: ['openid', 'profile', 'email'],
                  pkce: true,
                },
              ],
            }),
          ]
        : []),
    ],
    advanced: { cookiePrefix: 'cks-lab' },
    telemetry: { enabled: false },
    logger: {
      log: (level, message, ...args) => {
        const fields = { component: 'auth', ...(args.length ? { details: args.map(String) } : {}) };
        if (level === 'error') logger.error(fields, message);
        else if (level === 'warn') logger.warn(fields, message);
      },
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
