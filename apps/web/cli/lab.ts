/**
 * `npm run lab -- <command> [--json]`: the internal-tools CLI, built on the typed tRPC client.
 * LAB_URL (default http://localhost:3000) and LAB_ADMIN_TOKEN configure it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { ACT_AS_HEADER } from '../src/server/identity';
import type { AppRouter } from '../src/server/trpc/root';
import { render } from './render';

const USAGE = `usage: lab <command> [--json]
  sessions create [--wait]        start a session (--wait: until running or failed)
  sessions list [--all]           sessions (--all: include ended ones)
  sessions get <id>               status, steps and the session's cluster objects
  sessions delete <id>            end a session
  sessions extend <id>            extend a session's expiry
  snapshots status                the golden image and the active strategy      (admin)
  snapshots create <sessionId>    build the golden image from a running session (admin)
  snapshots recreate <sessionId>  replace the golden image                       (admin)
  snapshots delete                remove the golden image                        (admin)
  users list                      accounts, their roles and active sessions      (admin)
  users create [--admin] <name>   a learner (or admin) account; prints its generated password once
  users reset-password <name>     a new generated password, printed once; ends the account's sign-ins
  users disable <name>            no more sign-ins; its current ones end
  users enable <name>             allow sign-in again
  pool status                     the warm pool: target, ready, provisioning, failing and why  (admin)
  pool resize <n>                 keep n sessions warm (until the next restart)               (admin)
  metrics                         time-to-ready per strategy (warm too), the improvement and the pool hit rate
  whoami                          who the CLI acts as
options: --json  one JSON document on stdout   --no-wait  return at once from snapshots create/recreate
         --as <username>  act for that account (sessions are then theirs)
env: LAB_URL (default http://localhost:3000), LAB_ADMIN_TOKEN (default: the server's data/admin-token
     when it is on this machine: LAB_DATA_DIR or <repository>/data)`;

const WAIT_DEADLINE_MS = 60 * 60_000;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      'no-wait': { type: 'boolean' },
      all: { type: 'boolean' },
      admin: { type: 'boolean' },
      as: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [group, command, arg] = positionals;
  if (values.help || !group) {
    console.log(USAGE);
    return;
  }
  const url = (process.env.LAB_URL ?? 'http://localhost:3000').replace(/\/$/, '');
  const token = process.env.LAB_ADMIN_TOKEN ?? localAdminToken();
  const actAs = values.as;
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        headers: () => ({ ...(token ? { authorization: `Bearer ${token}` } : {}), ...(actAs ? { [ACT_AS_HEADER]: actAs } : {}) }),
      }),
    ],
  });
  /** Accounts are named by username here; the API takes their ids. */
  const accountId = async (username: string) => {
    const account = (await client.users.list.query()).find((a) => a.username === username.toLowerCase());
    if (!account) throw new Error(`no account named ${username}`);
    return account.id;
  };
  const need = (what: string) => {
    if (!arg) throw new UsageError(`${group} ${command} needs ${what}`);
    return arg;
  };

  const run = async (): Promise<unknown> => {
    switch (`${group} ${command ?? ''}`.trim()) {
      case 'sessions create': {
        const session = await client.sessions.create.mutate();
        if (!values.wait) return session;
        return waitUntil(() => client.sessions.get.query({ id: session.id }), (s) => ['running', 'failed', 'terminated'].includes(s.status));
      }
      case 'sessions list':
        return client.sessions.list.query({ includeEnded: Boolean(values.all) });
      case 'sessions get':
        return client.sessions.get.query({ id: need('a session id') });
      case 'sessions delete':
        return client.sessions.delete.mutate({ id: need('a session id') });
      case 'sessions extend':
        return client.sessions.extend.mutate({ id: need('a session id') });
      case 'snapshots status':
        return client.snapshots.status.query();
      case 'snapshots create':
      case 'snapshots recreate': {
        const sessionId = need('a session id');
        const started = command === 'create' ? await client.snapshots.create.mutate({ sessionId }) : await client.snapshots.recreate.mutate({ sessionId });
        if (values['no-wait']) return started;
        const done = await waitUntil(() => client.snapshots.status.query(), (s) => s.status !== 'building');
        if (done.status !== 'ready') throw new Error(`golden image build failed: ${done.failureReason ?? done.status}`);
        return done;
      }
      case 'snapshots delete':
        return client.snapshots.delete.mutate();
      case 'users list':
        return client.users.list.query();
      case 'users create':
        return client.users.create.mutate({ username: need('a username'), role: values.admin ? 'admin' : 'learner' });
      case 'users reset-password':
        return client.users.resetPassword.mutate({ id: await accountId(need('a username')) });
      case 'users disable':
      case 'users enable':
        return client.users.setDisabled.mutate({ id: await accountId(need('a username')), disabled: command === 'disable' });
      case 'pool status':
        return client.pool.status.query();
      case 'pool resize': {
        const size = Number(need('a size'));
        if (!Number.isInteger(size) || size < 0) throw new UsageError('pool resize needs a whole number ≥ 0');
        return client.pool.resize.mutate({ size });
      }
      case 'metrics':
        return client.metrics.summary.query({});
      case 'whoami':
        return client.account.me.query();
      default:
        throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
  };

  const result = await run();
  console.log(values.json ? JSON.stringify(result, null, 2) : render(`${group} ${command ?? ''}`.trim(), result));
}

class UsageError extends Error {}

/** The token the local server generated (`npm start` on this machine), so the commands it prints just work. */
function localAdminToken(): string | undefined {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const path = join(process.env.LAB_DATA_DIR ?? join(repo, 'data'), 'admin-token');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}

/** Polls the API (the CLI has no SSE client) until `done`, with a deadline. */
async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error('gave up waiting after 60 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`lab: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  const message =
    error instanceof TRPCClientError
      ? `${error.data?.code ?? 'ERROR'}: ${error.message}`
      : error instanceof Error && 'cause' in error && String(error.cause).includes('ECONNREFUSED')
        ? `cannot reach ${process.env.LAB_URL ?? 'http://localhost:3000'}: is the server running (npm start)?`
        : error instanceof Error
          ? error.message
          : String(error);
  console.error(`lab: ${message.split('\n')[0]}`);
  process.exit(1);
});
