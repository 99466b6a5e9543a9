import { type ConsoleConnection, type ConsolePort, guestIdentity, type Role } from '@cks-lab/core';
import { KubevirtConsole } from '../console/console-client';
import { type ConsoleLookup, type ConsoleServer, type ConsoleSessionIo, startConsoleServer } from '../console/console-server';
import { LABELS } from '../manifests/labels';
import type { KubeObject, ObjectApi } from '../object-api';
import { R } from '../resources';

interface Vmi extends KubeObject {
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

const BANNER =
  '\r\n*** cks-lab SIMULATOR: this console is simulated, no VM runs. ***\r\n' +
  '*** It answers hostname, kubectl get nodes, whoami, stty, echo and clear; nothing else runs. ***\r\n\r\n';

/**
 * The serial consoles of the simulated cluster's VMIs: what virt-api would refuse it refuses the
 * same way (no VMI: 404; not Running: 400 "VMI is not running"), and a running VMI gets a tiny
 * root shell that answers from the simulated cluster's objects.
 */
export function simulatedConsoleLookup(api: ObjectApi, k8sVersion: string): ConsoleLookup {
  return async (namespace, name) => {
    const vmi = await api.get<Vmi>(R.vmi, namespace, name);
    if (!vmi) return { refuse: { status: 404, message: `virtualmachineinstance.kubevirt.io "${name}" not found` } };
    if (vmi.status?.phase !== 'Running') return { refuse: { status: 400, message: 'VMI is not running' } };
    const role = vmi.metadata.labels?.[LABELS.role] as Role | undefined;
    if (role !== 'control-plane' && role !== 'worker') return { refuse: { status: 400, message: 'not a cks-lab VM' } };
    return { serve: (io) => simulatedShell(io, { role, nodes: () => nodeTable(api, namespace, k8sVersion) }) };
  };
}

/**
 * The simulator's console port goes through the same client and protocol as a real cluster's: a
 * loopback server speaking KubeVirt's console subresource, started at the first console opened.
 */
export class SimulatedConsole implements ConsolePort {
  private server: Promise<ConsoleServer> | null = null;

  constructor(
    private readonly api: ObjectApi,
    private readonly k8sVersion: string,
  ) {}

  async openConsole(sessionId: string, role: Role): Promise<ConsoleConnection> {
    this.server ??= startConsoleServer(simulatedConsoleLookup(this.api, this.k8sVersion));
    const { url } = await this.server;
    return new KubevirtConsole({ server: url, applyCredentials: async () => {} }).openConsole(sessionId, role);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await (await server).close();
  }
}

interface ShellContext {
  role: Role;
  nodes(): Promise<string>;
}

/** Line editing as a terminal's cooked mode does it (echo, backspace, ^C, ^U); escape sequences are dropped. */
export function simulatedShell(io: ConsoleSessionIo, context: ShellContext): void {
  const prompt = `root@${guestIdentity[context.role].hostname}:~# `;
  let line = '';
  let inEscape = false;
  // Commands run one after another, as a shell would, even when input arrives faster.
  let queue = Promise.resolve();
  io.send(BANNER + prompt);
  io.onInput((data) => {
    for (const char of data.toString('utf8')) {
      if (inEscape) {
        // CSI sequences end with a letter or ~ (arrow keys, function keys).
        if (/[A-Za-z~]/.test(char)) inEscape = false;
        continue;
      }
      if (char === '\x1b') {
        inEscape = true;
      } else if (char === '\r' || char === '\n') {
        const command = line;
        line = '';
        io.send('\r\n');
        queue = queue.then(async () => io.send((await run(command.trim(), context)) + prompt));
      } else if (char === '\x7f' || char === '\b') {
        if (line.length > 0) {
          line = line.slice(0, -1);
          io.send('\b \b');
        }
      } else if (char === '\x03') {
        line = '';
        io.send(`^C\r\n${prompt}`);
      } else if (char === '\x15') {
        io.send('\b \b'.repeat(line.length));
        line = '';
      } else if (char >= ' ') {
        line += char;
        io.send(char);
      }
    }
  });
}

async function run(command: string, context: ShellContext): Promise<string> {
  const lines = (text: string) => (text ? `${text.split('\n').join('\r\n')}\r\n` : '');
  const words = command.split(/\s+/).filter(Boolean);
  if (words.length === 0) return '';
  const [name, ...args] = words;
  switch (name) {
    case 'hostname':
      return lines(guestIdentity[context.role].hostname);
    case 'whoami':
      return lines('root');
    case 'echo':
      return lines(args.join(' '));
    case 'clear':
      return '\x1b[H\x1b[2J';
    case 'stty':
      // `stty rows R cols C` is how the terminal tells a serial console its size: accepted silently.
      return '';
    case 'kubectl':
      if (args.join(' ') !== 'get nodes' && args.join(' ') !== 'get node' && args.join(' ') !== 'get no') {
        return lines(`simulated console: only "kubectl get nodes" is simulated`);
      }
      if (context.role !== 'control-plane') {
        return lines('The connection to the server localhost:8080 was refused - did you specify the right host or port?');
      }
      return lines(await context.nodes());
    default:
      return lines(`${name}: not simulated (this console is played by the cks-lab simulator)`);
  }
}

/** `kubectl get nodes` from the session's simulated VMIs: a node is Ready when its guest is. */
async function nodeTable(api: ObjectApi, namespace: string, k8sVersion: string): Promise<string> {
  const vmis = (await api.list<Vmi>(R.vmi, namespace)).items;
  const rows = (['control-plane', 'worker'] as const).flatMap((role) => {
    const vmi = vmis.find((item) => item.metadata.labels?.[LABELS.role] === role);
    if (!vmi) return [];
    const ready = vmi.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const created = Date.parse(vmi.metadata.creationTimestamp ?? '');
    return [
      [
        guestIdentity[role].hostname,
        ready ? 'Ready' : 'NotReady',
        role === 'control-plane' ? 'control-plane' : '<none>',
        age(created),
        k8sVersion,
      ],
    ];
  });
  const table = [['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'], ...rows];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 3))).join(''))
    .join('\n');
}

function age(createdAt: number): string {
  if (!Number.isFinite(createdAt)) return '<unknown>';
  const seconds = Math.max(0, Math.round((Date.now() - createdAt) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h`;
}
