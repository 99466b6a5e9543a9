/**
 * `npm start`: Next.js's request handler behind a plain Node HTTP server, because route handlers
 * cannot take a WebSocket upgrade and the terminal's console relay needs one. Everything else is
 * Next.js as `next start` would serve it. Flags as `next start`'s: `-p <port>`, `-H <host>`;
 * `--dev` serves the development build.
 */
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import next from 'next';
import { ConsoleRelay } from './src/server/console-relay';
import { getRuntime } from './src/server/runtime';

const args = process.argv.slice(2);
const flag = (short: string, long: string) => {
  const at = args.findIndex((a) => a === short || a === long);
  return at >= 0 ? args[at + 1] : undefined;
};
const dev = args.includes('--dev');
const port = Number(flag('-p', '--port') ?? process.env.PORT ?? 3000);
const hostname = flag('-H', '--hostname') ?? process.env.HOSTNAME ?? '0.0.0.0';

const app = next({ dev, dir: dirname(fileURLToPath(import.meta.url)), hostname, port });
await app.prepare();
const handle = app.getRequestHandler();
const upgradeNext = app.getUpgradeHandler();
const runtime = await getRuntime();
const relay = new ConsoleRelay(runtime);

const server = createServer((request, response) => void handle(request, response));
server.on('upgrade', (request, socket, head) => {
  if (!ConsoleRelay.handles(request)) return void upgradeNext(request, socket, head);
  relay.handleUpgrade(request, socket, head).catch((error: unknown) => {
    runtime.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'console relay failed');
    socket.destroy();
  });
});
server.listen(port, hostname, () => {
  process.stdout.write(`cks-lab listening on http://${hostname}:${port}\n`);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  runtime.logger.info({ signal }, 'shutting down: terminals closed, in-flight requests finish, the orchestrator stops');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await relay.close();
  server.closeIdleConnections();
  // Requests still running after 10 s (a long poll, a live-progress stream) are cut.
  const cut = setTimeout(() => server.closeAllConnections(), 10_000);
  await closed;
  clearTimeout(cut);
  await runtime.close();
  await app.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
