/**
 * `npm start`: Next.js's request handler behind a plain Node HTTP server, because route handlers
 * cannot take a WebSocket upgrade and the terminal's console relay needs one. Everything else is
 * Next.js as `next start` would serve it. Flags as `next start`'s: `-p <port>`, `-H <host>`;
 * `--dev` serves the development build.
 */
import { createServer, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { ConsoleRelay } from './src/server/console-relay';
import { settlesWithin } from './src/server/deadline';
import { getRuntime } from './src/server/runtime';

/**
 * Shutdown budget: the process is gone within 10 s of SIGTERM (what orchestrators wait before
 * SIGKILL). Requests get 3 s to finish, running steps 4 s to reach their next recorded point;
 * anything still running then is resumed from its recorded step by the next start.
 */
const SHUTDOWN = { requestsMs: 3_000, workMs: 4_000, nextMs: 1_000, hardMs: 9_000 };

const args = process.argv.slice(2);
const flag = (short: string, long: string) => {
  const at = args.findIndex((a) => a === short || a === long);
  return at >= 0 ? args[at + 1] : undefined;
};
const dev = args.includes('--dev');
const port = Number(flag('-p', '--port') ?? process.env.PORT ?? 3000);
const hostname = flag('-H', '--hostname') ?? process.env.HOSTNAME ?? '0.0.0.0';

function cannotStart(error: unknown): never {
  process.stderr.write(`cks-lab cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

// Before Next.js: an invalid environment (or an unreachable database) stops the process with its
// reason instead of a server answering 500 everywhere. Next's instrumentation hook shares this runtime.
const runtime = await getRuntime().catch(cannotStart);
/** A start that fails after the runtime is up (no build, port taken) leaves the database closed cleanly. */
const abandon = (error: unknown) => runtime.close({ graceMs: 0 }).finally(() => cannotStart(error));
const app = next({ dev, dir: dirname(fileURLToPath(import.meta.url)), hostname, port });
await app.prepare().catch(abandon);
const handle = app.getRequestHandler();
const upgradeNext = app.getUpgradeHandler();
const relay = new ConsoleRelay(runtime);

let stopping = false;
/** Requests being answered; live-progress streams (SSE) among them never finish by themselves. */
const requests = new Map<ServerResponse, { stream: boolean }>();
let drained: () => void = () => {};

const server = createServer((request, response) => {
  if (stopping) return void refuse(response);
  requests.set(response, { stream: (request.headers.accept ?? '').includes('text/event-stream') });
  response.once('close', () => {
    requests.delete(response);
    if (requests.size === 0) drained();
  });
  void handle(request, response);
});
server.on('upgrade', (request, socket, head) => {
  if (stopping) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  if (!ConsoleRelay.handles(request)) return void upgradeNext(request, socket, head);
  relay.handleUpgrade(request, socket, head).catch((error: unknown) => {
    runtime.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'console relay failed');
    socket.destroy();
  });
});
server.once('error', (error) => void abandon(error));
server.listen(port, hostname, () => {
  process.stdout.write(`cks-lab listening on http://${hostname}:${port}\n`);
});

/** New work is refused with a clear answer (a load balancer moves on) while the listener drains. */
function refuse(response: ServerResponse): void {
  response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '10', connection: 'close' });
  response.end('cks-lab is shutting down\n');
}

async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) {
    runtime.logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  const started = Date.now();
  // Whatever hangs below, the process ends within the budget.
  setTimeout(() => {
    runtime.logger.error({ signal }, 'shutdown overran its budget; exiting');
    process.exit(1);
  }, SHUTDOWN.hardMs).unref();
  runtime.logger.info({ signal }, 'shutting down: new requests get 503, streams and terminals close, running steps reach a recorded point');

  // The orchestrator stops starting work now (runtime.close below joins this stop, up to `workMs` after the signal).
  void runtime.lab.stop();
  // Streams and terminals end now: their pages reconnect to whichever server answers next.
  for (const [response, { stream }] of requests) if (stream) response.destroy();
  server.closeIdleConnections();
  const finished = requests.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (drained = resolve));
  const [requestsDone] = await Promise.all([settlesWithin(finished, SHUTDOWN.requestsMs), relay.close()]);
  if (!requestsDone) runtime.logger.warn({ open: requests.size }, 'requests still running at shutdown were cut');
  // Leftovers are cut; the listener stays, answering 503, until the process exits.
  server.closeAllConnections();
  await settlesWithin(app.close(), SHUTDOWN.nextMs);
  // Last, and straight before exit: closed under running requests the database would turn them into
  // 500s, and work left running past the grace must not find it open again.
  await runtime.close({ graceMs: Math.max(0, started + SHUTDOWN.workMs - Date.now()) });
  runtime.logger.info({ signal, ms: Date.now() - started }, 'shut down');
  process.exit(0);
}
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));
// Under `npm start`, a SIGTERM sent to npm ends npm and its shell but is not passed on: the server
// would live on as an orphan. The process that started it going away counts as a SIGTERM.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop('SIGTERM');
}, 1000).unref();
