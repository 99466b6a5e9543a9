import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const WEB_DIR = resolve(fileURLToPath(new URL('../../../apps/web', import.meta.url)));

export interface NextServer {
  url: string;
  dataDir: string;
  /** The server process itself, for tests that signal it as an orchestrator would. */
  process: ChildProcess;
  /** Everything the server printed, for a failing test's message. */
  output(): string;
  /** Resident memory of the server's processes together (Linux), in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  env: Record<string, string>;
  /** An existing data directory (e.g. a seeded database); a fresh temporary one otherwise. */
  dataDir?: string;
  readyTimeoutMs?: number;
}

/** A free TCP port: bind to port 0, read what the OS picked, release it. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts the production build as a user would (`npm start` runs apps/web/server.ts: Next.js behind
 * the server that also relays the terminal's WebSockets), with its own data directory, and
 * waits until the API answers (the orchestrator is up then, not just the HTTP listener).
 * The build itself is the caller's job (`npm run build`).
 */
export async function startNextServer(options: StartOptions): Promise<NextServer> {
  if (!existsSync(join(WEB_DIR, '.next', 'BUILD_ID'))) {
    throw new Error(`no production build in ${WEB_DIR}/.next: run \`npm run build\` at the repository root first`);
  }
  const port = await freePort();
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'cks-lab-e2e-'));
  const tsx = pathToFileURL(createRequire(join(WEB_DIR, 'package.json')).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, 'server.ts', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: WEB_DIR,
    // No warm pool unless a test asks for one: the other tests follow the snapshot and bootstrap paths.
    env: {
      ...inheritedEnv(),
      NEXT_TELEMETRY_DISABLED: '1',
      NODE_ENV: 'production',
      LAB_DATA_DIR: dataDir,
      WARM_POOL_SIZE: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stop() can end next and anything it started in one signal.
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;

  const server: NextServer = {
    url,
    dataDir,
    process: child,
    output: () => output,
    rssBytes: () => processGroupRss(child.pid!),
    async stop() {
      await terminate(child);
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilReady(url, child, options.readyTimeoutMs ?? 60_000, () => output);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** Settings that would point the server at someone else's database or cluster state are not inherited. */
const ISOLATING = ['DATABASE_URL', 'SIM_STATE', 'SIM_FAULTS', 'SIM_LATENCIES', 'LAB_CLUSTER', 'KUBECONFIG', 'PORT'];

function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ISOLATING) delete env[name];
  return env;
}

async function waitUntilReady(url: string, child: ChildProcess, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the server did not answer within ${timeoutMs} ms:\n${output()}`);
}

/** The server may run workers in child processes: add up every process of its group. */
function processGroupRss(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces: state ppid pgrp …
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (pgrp !== pgid) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
  if (!killed) {
    signalGroup('SIGKILL');
    await exited;
  }
}
