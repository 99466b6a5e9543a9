import type { IncomingMessage } from 'node:http';
import { type ConsoleConnection, type ConsolePort, names, PreconditionError, type Role, TransientError } from '@cks-lab/core';
import WebSocket, { type ClientOptions } from 'ws';

/**
 * KubeVirt's serial console protocol (v1.8.0): the subprotocol `plain.kubevirt.io`
 * (staging/src/kubevirt.io/client-go/subresources/constants.go PlainStreamProtocolName), binary
 * frames of raw bytes both ways, text frames ignored
 * (staging/src/kubevirt.io/client-go/kubevirt/typed/core/v1/websocket.go binaryReader/binaryWriter).
 * Refusals come before the upgrade as an HTTP status with a Status body: 400 "VMI is not running",
 * 409 for a failed VMI, 404 for no VMI (pkg/virt-api/rest/console.go validateVMIForConsole).
 */
export const CONSOLE_SUBPROTOCOL = 'plain.kubevirt.io';

export function consolePath(namespace: string, vmi: string): string {
  return `/apis/subresources.kubevirt.io/v1/namespaces/${encodeURIComponent(namespace)}/virtualmachineinstances/${encodeURIComponent(vmi)}/console`;
}

/** Where the API server is and how to present cks-lab's own credentials to it (TLS verified). */
export interface ConsoleEndpoint {
  /** e.g. `https://10.0.0.1:6443`; http(s) is turned into ws(s). */
  server: string;
  /** Fills in CA, client certificate/key and Authorization, as client-node's applyToHTTPSOptions does. */
  applyCredentials(options: ClientOptions): Promise<void>;
}

/** The console port over the console subresource of any API server that serves it (real, test stand-in or simulator). */
export class KubevirtConsole implements ConsolePort {
  constructor(
    private readonly endpoint: ConsoleEndpoint,
    private readonly connectTimeoutMs = 15_000,
  ) {}

  async openConsole(sessionId: string, role: Role): Promise<ConsoleConnection> {
    const url =
      this.endpoint.server.replace(/^http/, 'ws').replace(/\/$/, '') + consolePath(names.namespace(sessionId), names.vm(role, sessionId));
    const options: ClientOptions = { handshakeTimeout: this.connectTimeoutMs, perMessageDeflate: false };
    await this.endpoint.applyCredentials(options);
    return connect(url, options);
  }
}

function connect(url: string, options: ClientOptions): Promise<ConsoleConnection> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, [CONSOLE_SUBPROTOCOL], options);
    socket.binaryType = 'nodebuffer';
    socket.once('unexpected-response', (_request, response: IncomingMessage) => {
      readBody(response).then((body) => {
        socket.terminate();
        reject(refusal(response.statusCode ?? 0, body));
      }, reject);
    });
    socket.once('error', (error) => reject(new TransientError(`console connection failed: ${error.message}`)));
    socket.once('open', () => {
      if (socket.protocol !== CONSOLE_SUBPROTOCOL) {
        socket.close(1002, 'subprotocol');
        reject(new TransientError(`the console answered with subprotocol "${socket.protocol}", not ${CONSOLE_SUBPROTOCOL}`));
        return;
      }
      resolve(wrap(socket));
    });
  });
}

function wrap(socket: WebSocket): ConsoleConnection {
  const closeListeners: ((reason: string) => void)[] = [];
  const dataListeners: ((data: Uint8Array) => void)[] = [];
  // Bytes can arrive before the caller has subscribed (the open is settled a tick later): kept for it.
  let early: Buffer[] | null = [];
  socket.on('message', (data, isBinary) => {
    if (!isBinary) return;
    if (early) early.push(data as Buffer);
    else for (const listener of dataListeners) listener(data as Buffer);
  });
  let closedWith: string | null = null;
  const closed = (reason: string) => {
    if (closedWith !== null) return;
    closedWith = reason;
    for (const listener of closeListeners) listener(reason);
  };
  socket.on('close', (code, reason) =>
    closed(reason.toString() || (code === 1000 ? 'the console closed' : `the console connection dropped (${code})`)),
  );
  socket.on('error', (error) => closed(`the console connection failed: ${error.message}`));
  return {
    write(data) {
      if (socket.readyState === WebSocket.OPEN) socket.send(data, { binary: true });
    },
    onData(listener) {
      dataListeners.push(listener);
      if (early) {
        for (const data of early) listener(data);
        early = null;
      }
    },
    onClose(listener) {
      if (closedWith !== null) listener(closedWith);
      else closeListeners.push(listener);
    },
    close() {
      socket.close(1000);
    },
  };
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < 4096) body += chunk;
    });
    response.on('end', () => resolve(body));
    response.on('error', reject);
  });
}

/** A refused upgrade in the API server's own words (a Status object's message when there is one). */
function refusal(status: number, body: string): Error {
  let message = body.trim().slice(0, 300);
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not a Status object: keep the text.
  }
  if (status === 400 || status === 404 || status === 409)
    return new PreconditionError(`the VM's console is not available: ${message || `HTTP ${status}`}`);
  return new TransientError(`the console was refused with HTTP ${status}${message ? `: ${message}` : ''}`);
}
