import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { CONSOLE_SUBPROTOCOL } from './console-client';

const CONSOLE_PATH = /^\/apis\/subresources\.kubevirt\.io\/v1\/namespaces\/([^/]+)\/virtualmachineinstances\/([^/]+)\/console$/;

/** What the console's far end does with one connection: bytes in through `input`, out through `send`. */
export interface ConsoleSessionIo {
  send(data: Uint8Array | string): void;
  onInput(listener: (data: Buffer) => void): void;
  onEnd(listener: () => void): void;
}

export type ConsoleLookup = (
  namespace: string,
  vmi: string,
) => Promise<{ refuse: { status: number; message: string } } | { serve: (io: ConsoleSessionIo) => void }>;

export interface ConsoleServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * An HTTP server that answers KubeVirt's console subresource the way virt-api does
 * (pkg/virt-api/rest/console.go in v1.8.0): a refusal is an HTTP status with a Status object
 * before any upgrade; an accepted console speaks `plain.kubevirt.io`, binary frames of raw bytes.
 * The simulator's consoles and the integration tier's virt-api stand-in are both this server.
 */
export async function startConsoleServer(lookup: ConsoleLookup, options: { host?: string; server?: Server } = {}): Promise<ConsoleServer> {
  const server = options.server ?? createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(CONSOLE_SUBPROTOCOL) ? CONSOLE_SUBPROTOCOL : false),
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = CONSOLE_PATH.exec(new URL(request.url ?? '/', 'http://x').pathname);
    if (!match) return refuseUpgrade(socket, 404, 'the server could not find the requested resource');
    lookup(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)).then(
      (answer) => {
        if ('refuse' in answer) return refuseUpgrade(socket, answer.refuse.status, answer.refuse.message);
        wss.handleUpgrade(request, socket, head, (ws) => answer.serve(sessionIo(ws)));
      },
      (error: unknown) => refuseUpgrade(socket, 500, error instanceof Error ? error.message : String(error)),
    );
  });
  if (!server.listening) await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sessionIo(ws: WebSocket): ConsoleSessionIo {
  return {
    send(data) {
      if (ws.readyState === ws.OPEN) ws.send(typeof data === 'string' ? Buffer.from(data) : data, { binary: true });
    },
    onInput(listener) {
      ws.on('message', (data, isBinary) => {
        if (isBinary) listener(data as Buffer);
      });
    },
    onEnd(listener) {
      ws.on('close', listener);
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code: status });
  socket.end(
    `HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
