import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ConsoleConnection, guestIdentity, isSessionId, ROLES, type Role } from '@cks-lab/core';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { type Identity, identify } from './identity';
import type { Runtime } from './runtime';

/** `/api/console/<session id>/<controlplane|node01>` */
const CONSOLE_URL = /^\/api\/console\/([^/]+)\/([a-z0-9-]+)$/;

/** What the relay says to the browser besides the console's bytes (text frames, JSON). */
export type ConsoleStatus =
  | { type: 'status'; state: 'connected' }
  /** The VM's console cannot be opened now (not started yet, stopped, or the session ended); try again later. */
  | { type: 'status'; state: 'unavailable' | 'ended'; message: string };

/** Close codes the terminal reads (4000–4999 are the application's own). */
export const CLOSE = { unavailable: 4409, ended: 4410, signedOut: 4401, dropped: 4502 } as const;

export interface ConsoleRelayOptions {
  /** Bytes of console output kept per console and replayed to a (re)attaching terminal. */
  scrollbackBytes?: number;
  /** How long a console stays open with no terminal attached (a reload comes back within it). */
  idleMs?: number;
  /** How often an attached terminal's sign-in and session are checked again. */
  recheckMs?: number;
}

/** One VM's console as the relay holds it: the connection to the cluster, its recent output, the terminals on it. */
interface Console {
  key: string;
  sessionId: string;
  role: Role;
  upstream: Promise<ConsoleConnection> | null;
  scrollback: Buffer[];
  scrollbackSize: number;
  terminals: Set<WebSocket>;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * Relays a session VM's serial console to its owner's browser (and to admins): the same ownership
 * rule as the tRPC procedures (core, through `lab.getSession`), decided on the WebSocket handshake
 * with the same cookie; the cluster side is opened with cks-lab's own credentials, so the browser
 * never holds any. One cluster connection per console, shared by the terminals attached to it
 * (KubeVirt lets one client at a time have a serial console), with a bounded scrollback replayed on
 * attach so a reload or a dropped connection comes back to the same screen.
 */
export class ConsoleRelay {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
  private readonly consoles = new Map<string, Console>();
  private readonly scrollbackBytes: number;
  private readonly idleMs: number;
  private readonly recheckMs: number;
  /** Shutting down: a terminal that goes away leaves no idle timer behind. */
  private closing = false;

  constructor(
    private readonly runtime: Runtime,
    options: ConsoleRelayOptions = {},
  ) {
    this.scrollbackBytes = options.scrollbackBytes ?? 256 * 1024;
    this.idleMs = options.idleMs ?? 120_000;
    this.recheckMs = options.recheckMs ?? 10_000;
  }

  /** Whether this upgrade request is the relay's. */
  static handles(request: IncomingMessage): boolean {
    return (request.url ?? '').startsWith('/api/console/');
  }

  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const { logger } = this.runtime;
    const match = CONSOLE_URL.exec(new URL(request.url ?? '/', 'http://relay').pathname);
    const role = ROLES.find((r) => guestIdentity[r].hostname === match?.[2]);
    if (!match || !role || !isSessionId(match[1]!)) return refuse(socket, 404, 'no such console');
    const sessionId = match[1]!;
    const headers = toHeaders(request);
    if (headers.has('cookie') && !sameSite(headers, this.runtime.config.auth.publicUrl)) {
      return refuse(socket, 403, 'cross-site console request refused');
    }
    const caller = await identify(this.runtime, headers).catch(() => null);
    if (!caller) return refuse(socket, 500, 'could not identify the caller');
    if (!caller.ok) return refuse(socket, 403, caller.message);
    if (!caller.identity) return refuse(socket, 401, 'sign in first');
    const identity = caller.identity;
    const session = await this.sessionStatus(sessionId, identity);
    if (session === 'not-found') {
      logger.warn({ sessionId, user: identity.name }, "console refused: not the caller's session");
      return refuse(socket, 404, `session ${sessionId} not found`);
    }
    this.wss.handleUpgrade(request, socket, head, (terminal) => {
      logger.info({ sessionId, role, user: identity.name }, 'console attached');
      if (session !== 'running')
        return endWith(
          terminal,
          session === 'ended' ? 'ended' : 'unavailable',
          session === 'ended' ? 'the session has ended' : 'the session is not running yet',
        );
      this.attach(terminal, sessionId, role, headers, identity);
    });
  }

  /** Closes every terminal and cluster connection (server shutdown). */
  async close(): Promise<void> {
    this.closing = true;
    for (const entry of this.consoles.values()) {
      if (entry.idleTimer) clearTimeout(entry.idleTimer);
      entry.upstream?.then(
        (c) => c.close(),
        () => {},
      );
    }
    this.consoles.clear();
    for (const terminal of this.wss.clients) terminal.close(1001, 'the server is shutting down');
    const closed = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    // A browser that does not answer the close handshake is cut after a second, not ws's 30 s.
    const cut = setTimeout(() => {
      for (const terminal of this.wss.clients) terminal.terminate();
    }, 1000);
    await closed;
    clearTimeout(cut);
  }

  private async sessionStatus(sessionId: string, identity: Identity): Promise<'running' | 'ended' | 'starting' | 'not-found'> {
    try {
      const { session } = await this.runtime.lab.getSession(sessionId, identity.actor);
      if (session.status === 'running') return 'running';
      return session.status === 'pending' || session.status === 'provisioning' ? 'starting' : 'ended';
    } catch (error) {
      if (error instanceof Error && error.name === 'NotFoundError') return 'not-found';
      throw error;
    }
  }

  private attach(terminal: WebSocket, sessionId: string, role: Role, headers: Headers, identity: Identity): void {
    const key = `${sessionId}/${role}`;
    let entry = this.consoles.get(key);
    if (!entry) {
      entry = { key, sessionId, role, upstream: null, scrollback: [], scrollbackSize: 0, terminals: new Set(), idleTimer: null };
      this.consoles.set(key, entry);
    }
    const vm = entry;
    if (vm.idleTimer) clearTimeout(vm.idleTimer);
    vm.idleTimer = null;
    vm.terminals.add(terminal);
    if (vm.scrollbackSize > 0) terminal.send(Buffer.concat(vm.scrollback), { binary: true });

    const recheck = setInterval(() => {
      void this.stillAllowed(sessionId, headers).then((verdict) => {
        if (verdict === 'signed-out') terminal.close(CLOSE.signedOut, 'signed out');
        else if (verdict === 'ended') endWith(terminal, 'ended', 'the session has ended');
      });
    }, this.recheckMs);
    terminal.on('close', () => {
      clearInterval(recheck);
      vm.terminals.delete(terminal);
      if (vm.terminals.size === 0 && !this.closing) vm.idleTimer = setTimeout(() => this.retire(vm), this.idleMs);
    });
    terminal.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) return;
      void vm.upstream?.then(
        (c) => c.write(toBuffer(data)),
        () => {},
      );
    });

    this.open(vm).then(
      () => terminal.send(JSON.stringify({ type: 'status', state: 'connected' } satisfies ConsoleStatus)),
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.runtime.logger.warn({ sessionId, role, user: identity.name, error: message }, 'console not available');
        endWith(terminal, 'unavailable', message);
      },
    );
  }

  /** The console's cluster connection, opened once and shared; a closed one is forgotten so the next attach reopens it. */
  private open(vm: Console): Promise<ConsoleConnection> {
    if (vm.upstream) return vm.upstream;
    const upstream = this.runtime.consoles.openConsole(vm.sessionId, vm.role);
    vm.upstream = upstream;
    upstream.then(
      (connection) => {
        connection.onData((data) => {
          const chunk = Buffer.from(data);
          this.remember(vm, chunk);
          for (const terminal of vm.terminals) terminal.send(chunk, { binary: true });
        });
        connection.onClose((reason) => {
          if (vm.upstream === upstream) vm.upstream = null;
          for (const terminal of vm.terminals) terminal.close(CLOSE.dropped, reason.slice(0, 120));
        });
      },
      () => {
        if (vm.upstream === upstream) vm.upstream = null;
      },
    );
    return upstream;
  }

  private remember(vm: Console, chunk: Buffer): void {
    vm.scrollback.push(chunk);
    vm.scrollbackSize += chunk.length;
    while (vm.scrollbackSize > this.scrollbackBytes && vm.scrollback.length > 0) {
      const excess = vm.scrollbackSize - this.scrollbackBytes;
      const first = vm.scrollback[0]!;
      if (first.length <= excess) {
        vm.scrollback.shift();
        vm.scrollbackSize -= first.length;
      } else {
        vm.scrollback[0] = first.subarray(excess);
        vm.scrollbackSize -= excess;
      }
    }
  }

  /**
   * Nobody has looked for a while: the cluster connection closes; the screen is kept while the
   * session runs (looked at again every idle period) and dropped once it has ended.
   */
  private retire(vm: Console): void {
    vm.idleTimer = null;
    const upstream = vm.upstream;
    vm.upstream = null;
    upstream?.then(
      (c) => c.close(),
      () => {},
    );
    void this.runtime.lab.getSession(vm.sessionId).then(
      ({ session }) => {
        if (vm.terminals.size > 0 || this.consoles.get(vm.key) !== vm) return;
        if (session.status === 'running') vm.idleTimer = setTimeout(() => this.retire(vm), this.idleMs);
        else this.consoles.delete(vm.key);
      },
      () => this.consoles.delete(vm.key),
    );
  }

  private async stillAllowed(sessionId: string, headers: Headers): Promise<'ok' | 'signed-out' | 'ended'> {
    try {
      const caller = await identify(this.runtime, headers);
      if (!caller.ok || !caller.identity) return 'signed-out';
      const status = await this.sessionStatus(sessionId, caller.identity);
      if (status === 'not-found') return 'signed-out';
      return status === 'ended' ? 'ended' : 'ok';
    } catch {
      // A database hiccup is not a reason to cut the learner off; the next check decides.
      return 'ok';
    }
  }
}

function endWith(terminal: WebSocket, state: 'unavailable' | 'ended', message: string): void {
  terminal.send(JSON.stringify({ type: 'status', state, message } satisfies ConsoleStatus));
  terminal.close(state === 'ended' ? CLOSE.ended : CLOSE.unavailable, message.slice(0, 120));
}

function toBuffer(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function toHeaders(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/**
 * Browsers send Origin on every WebSocket handshake and cookies ride along from any site, so a
 * cookie-carrying handshake from another site is refused (cross-site WebSocket hijacking).
 */
function sameSite(headers: Headers, publicUrl: string | undefined): boolean {
  const site = headers.get('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = headers.get('origin');
  if (!origin) return false;
  const host = headers.get('host');
  return (
    (host !== null && (origin === `http://${host}` || origin === `https://${host}`)) ||
    (publicUrl !== undefined && origin === new URL(publicUrl).origin)
  );
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
