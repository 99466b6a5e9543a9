import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConsoleConnection, type ConsolePort, NotFoundError, type Role } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ConsoleRelay } from './console-relay';
import type { Runtime } from './runtime';

const TOKEN = 'relay-test-admin-token-0123456789';
const ALICE_SESSION = 'aaaaaaaa';
const ALICE_ENDED = 'eeeeeeee';

/** A VM console that echoes what it gets, prefixed, and counts how often it was opened. */
class EchoConsoles implements ConsolePort {
  opened = 0;
  open: { write(data: string): void; close(): void }[] = [];
  async openConsole(_sessionId: string, role: Role): Promise<ConsoleConnection> {
    this.opened++;
    let onData: (data: Uint8Array) => void = () => {};
    let onClose: (reason: string) => void = () => {};
    const handle = { write: (text: string) => onData(Buffer.from(text)), close: () => onClose('the VM went away') };
    this.open.push(handle);
    setTimeout(() => handle.write(`${role}# `), 5);
    return {
      write: (data) => handle.write(`<${Buffer.from(data).toString()}>`),
      onData: (listener) => (onData = listener),
      onClose: (listener) => (onClose = listener),
      close: () => {},
    };
  }
}

function fakeRuntime(consoles: ConsolePort): Runtime {
  const accounts: Record<string, { id: string; username: string; role: 'learner' | 'admin'; disabled: boolean }> = {
    alice: { id: 'u-alice', username: 'alice', role: 'learner', disabled: false },
    bob: { id: 'u-bob', username: 'bob', role: 'learner', disabled: false },
  };
  return {
    adminToken: TOKEN,
    accounts: { findByUsername: async (name: string) => accounts[name] ?? null },
    auth: { api: { getSession: async () => null } },
    config: { auth: { publicUrl: undefined } },
    logger: { info() {}, warn() {}, error() {} },
    consoles,
    lab: {
      async getSession(id: string, actor: { role: string; userId: string | null } = { role: 'admin', userId: null }) {
        if (![ALICE_SESSION, ALICE_ENDED].includes(id) || (actor.role !== 'admin' && actor.userId !== 'u-alice'))
          throw new NotFoundError(`session ${id} not found`);
        return { session: { id, status: id === ALICE_ENDED ? 'terminated' : 'running' } };
      },
    },
  } as unknown as Runtime;
}

let server: Server | null = null;
let relay: ConsoleRelay | null = null;
afterEach(async () => {
  await relay?.close();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

async function start(consoles: ConsolePort, scrollbackBytes = 64): Promise<string> {
  relay = new ConsoleRelay(fakeRuntime(consoles), { scrollbackBytes, idleMs: 60_000 });
  server = createServer();
  server.on('upgrade', (request, socket, head) => void relay!.handleUpgrade(request, socket, head));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function terminal(url: string, as: string) {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}`, 'x-lab-act-as': as } });
  let screen = '';
  const statuses: string[] = [];
  ws.on('message', (data, binary) => (binary ? (screen += data.toString()) : statuses.push(JSON.parse(data.toString()).state)));
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(check()).toBe(true);
  };
  return { ws, screen: () => screen, statuses, until };
}

function refusal(url: string, as: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}`, 'x-lab-act-as': as } });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('console relay', () => {
  it('gives the owner her console, both ways, and refuses it to another learner as not found', async () => {
    const base = await start(new EchoConsoles());
    const alice = terminal(`${base}/api/console/${ALICE_SESSION}/controlplane`, 'alice');
    await alice.until(() => alice.screen().includes('control-plane# ') && alice.statuses.includes('connected'));
    alice.ws.send(Buffer.from('ls\r'));
    await alice.until(() => alice.screen().includes('<ls\r>'));
    expect(await refusal(`${base}/api/console/${ALICE_SESSION}/controlplane`, 'bob')).toBe(404);
    expect(await refusal(`${base}/api/console/${ALICE_SESSION}/nope`, 'alice')).toBe(404);
  });

  it('shares one cluster connection and replays the last screen (bounded) to a terminal that comes back', async () => {
    const consoles = new EchoConsoles();
    const base = await start(consoles, 64);
    const url = `${base}/api/console/${ALICE_SESSION}/node01`;
    const first = terminal(url, 'alice');
    await first.until(() => first.statuses.includes('connected'));
    first.ws.send(Buffer.from('x'.repeat(100)));
    await first.until(() => first.screen().endsWith('x>'));
    first.ws.close();
    const again = terminal(url, 'alice');
    await again.until(() => again.statuses.includes('connected'));
    await again.until(() => again.screen().length > 0);
    // The last 64 bytes of output, not more.
    expect(again.screen()).toBe(first.screen().slice(-64));
    expect(consoles.opened).toBe(1);
  });

  it('says so when the session has ended, and opens nothing on the cluster', async () => {
    const consoles = new EchoConsoles();
    const base = await start(consoles);
    const alice = terminal(`${base}/api/console/${ALICE_ENDED}/controlplane`, 'alice');
    const closed = new Promise<number>((r) => alice.ws.on('close', (code) => r(code)));
    expect(await closed).toBe(4410);
    expect(alice.statuses).toEqual(['ended']);
    expect(consoles.opened).toBe(0);
  });

  it('tells the terminal when the VM side drops, so it reconnects to a fresh console', async () => {
    const consoles = new EchoConsoles();
    const base = await start(consoles);
    const alice = terminal(`${base}/api/console/${ALICE_SESSION}/controlplane`, 'alice');
    await alice.until(() => alice.statuses.includes('connected'));
    const closed = new Promise<number>((r) => alice.ws.on('close', (code) => r(code)));
    consoles.open[0]!.close();
    expect(await closed).toBe(4502);
    const back = terminal(`${base}/api/console/${ALICE_SESSION}/controlplane`, 'alice');
    await back.until(() => back.statuses.includes('connected'));
    expect(consoles.opened).toBe(2);
  });
});
