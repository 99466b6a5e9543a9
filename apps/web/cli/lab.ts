/**
 * `npm run -s lab -- <command> [--json]`: the internal-tools CLI, built on the typed tRPC client.
 * Results go to stdout (one JSON document with --json), progress and failures to stderr.
 */
import { createTRPCClient, httpLink } from '@trpc/client';
import { ACT_AS_HEADER } from '../src/server/identity';
import type { AppRouter } from '../src/server/trpc/root';
import { type Invocation, parseCommandLine, UsageError } from './commands';
import { CliError, type Connection, connectionFrom, describeFailure } from './connection';
import { goldenProgress, sessionProgress } from './progress';
import { render, withReadableTimes } from './render';

const WAIT_DEADLINE_MS = 60 * 60_000;
const POLL_MS = 1000;

async function main(): Promise<void> {
  let invocation: Invocation;
  try {
    invocation = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`lab: ${error.message}\n\n${error.help}`);
    process.exit(2);
  }
  if (invocation.kind === 'help') {
    console.log(invocation.text);
    return;
  }
  let connection: Connection | null = null;
  try {
    connection = connectionFrom(process.env);
    const result = await run(invocation, connection);
    console.log(invocation.options.json ? JSON.stringify(withReadableTimes(result), null, 2) : render(invocation.command, result));
  } catch (error) {
    console.error(`lab: ${connection ? describeFailure(error, connection) : error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

async function run({ command, arg, options }: Extract<Invocation, { kind: 'run' }>, connection: Connection): Promise<unknown> {
  const client = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${connection.url}/api/trpc`,
        headers: () => ({ authorization: `Bearer ${connection.token}`, ...(options.as ? { [ACT_AS_HEADER]: options.as } : {}) }),
      }),
    ],
  });
  // The parser checked that commands needing an argument have one.
  const given = arg ?? '';
  /** Accounts are named by username here; the API takes their ids. */
  const accountId = async (username: string) => {
    const account = (await client.users.list.query()).find((a) => a.username === username.toLowerCase());
    if (!account) throw new CliError(`no account named ${username}`);
    return account.id;
  };

  switch (command) {
    case 'sessions create': {
      const session = await client.sessions.create.mutate();
      if (!options.wait) return session;
      let last: Awaited<ReturnType<typeof client.sessions.get.query>> | null = null;
      return waitUntil(
        () => client.sessions.get.query({ id: session.id }),
        (s) => {
          progress(sessionProgress(last, s));
          last = s;
          return ['running', 'failed', 'terminated'].includes(s.status);
        },
      );
    }
    case 'sessions list':
      return client.sessions.list.query({ includeEnded: options.all });
    case 'sessions get':
      return client.sessions.get.query({ id: given });
    case 'sessions delete':
      return client.sessions.delete.mutate({ id: given });
    case 'sessions extend':
      return client.sessions.extend.mutate({ id: given });
    case 'snapshots status':
      return client.snapshots.status.query();
    case 'snapshots create':
    case 'snapshots recreate': {
      const started =
        command === 'snapshots create'
          ? await client.snapshots.create.mutate({ sessionId: given })
          : await client.snapshots.recreate.mutate({ sessionId: given });
      if (options.noWait) return started;
      let last: typeof started | null = null;
      const done = await waitUntil(
        () => client.snapshots.status.query(),
        (s) => {
          progress(goldenProgress(last, s));
          last = s;
          return s.status !== 'building';
        },
      );
      if (done.status !== 'ready') throw new CliError(`golden image build failed: ${done.failureReason ?? done.status}`);
      return done;
    }
    case 'snapshots delete':
      return client.snapshots.delete.mutate();
    case 'users list':
      return client.users.list.query();
    case 'users create':
      return client.users.create.mutate({ username: given, role: options.admin ? 'admin' : 'learner' });
    case 'users reset-password':
      return client.users.resetPassword.mutate({ id: await accountId(given) });
    case 'users disable':
    case 'users enable':
      return client.users.setDisabled.mutate({ id: await accountId(given), disabled: command === 'users disable' });
    case 'pool status':
      return client.pool.status.query();
    case 'pool resize': {
      const size = Number(given);
      if (!Number.isInteger(size) || size < 0) throw new CliError('pool resize needs a whole number ≥ 0');
      return client.pool.resize.mutate({ size });
    }
    case 'metrics':
      return client.metrics.summary.query({});
    case 'whoami':
      return client.account.me.query();
  }
}

/** Progress goes to stderr, so stdout stays the one result (and parses with --json). */
function progress(lines: string[]): void {
  for (const line of lines) console.error(line);
}

/** Polls the API (the CLI has no SSE client) until `done`, with a deadline. */
async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_DEADLINE_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new CliError('gave up waiting after 60 minutes');
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

main().catch((error: unknown) => {
  console.error(`lab: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
