import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRPCClientError } from '@trpc/client';

/** Where the CLI talks to and with which token, and what it says when either is missing. */
export interface Connection {
  url: string;
  token: string;
  /** Where the token came from, for messages. */
  tokenSource: string;
}

type Env = Record<string, string | undefined>;

/** A failure the CLI explains in one line (no stack, no usage). */
export class CliError extends Error {}

const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function adminTokenPath(env: Env): string {
  return join(env.LAB_DATA_DIR ?? join(REPOSITORY, 'data'), 'admin-token');
}

/** LAB_URL and the admin token: LAB_ADMIN_TOKEN, else the file the local server generated (`npm start` on this machine). */
export function connectionFrom(env: Env): Connection {
  const url = (env.LAB_URL ?? 'http://localhost:3000').replace(/\/$/, '');
  if (env.LAB_ADMIN_TOKEN) return { url, token: env.LAB_ADMIN_TOKEN, tokenSource: 'LAB_ADMIN_TOKEN' };
  const path = adminTokenPath(env);
  const token = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  if (!token) {
    throw new CliError(
      `no admin token: set LAB_ADMIN_TOKEN to the server's admin token, or run this on the server's machine, where npm start writes it to ${path}`,
    );
  }
  return { url, token, tokenSource: path };
}

/** One line for any failure of a call: what went wrong, in terms of what the user set. */
export function describeFailure(error: unknown, connection: Connection): string {
  if (error instanceof CliError) return error.message;
  const unreachable = networkCode(error);
  if (unreachable) {
    return `cannot reach the server at ${connection.url} (${unreachable}): is it running (npm start)? LAB_URL sets where to look`;
  }
  if (error instanceof TRPCClientError) {
    const code = (error.data as { code?: string } | undefined)?.code;
    if (code === 'FORBIDDEN' && /admin token/.test(error.message)) {
      return `the server refused the admin token from ${connection.tokenSource}: ${error.message} (LAB_ADMIN_TOKEN overrides it)`;
    }
    return `${code ?? 'ERROR'}: ${firstLine(error.message)}`;
  }
  return error instanceof Error ? firstLine(error.message) : String(error);
}

/**
 * Why a request never got an answer: the system error code (ECONNREFUSED, ENOTFOUND…) or the
 * innermost message under fetch's "fetch failed"; null when the server answered.
 */
function networkCode(error: unknown): string | null {
  let failedFetch = false;
  let reason: string | null = null;
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    if (cause.message === 'fetch failed') failedFetch = true;
    else if (failedFetch) reason = cause.message;
  }
  return failedFetch ? (reason ?? 'fetch failed') : null;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
