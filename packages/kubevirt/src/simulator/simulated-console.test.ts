import { type ConsoleConnection, names, PreconditionError, type Role } from '@cks-lab/core';
import { afterEach, describe, expect, it } from 'vitest';
import { LABELS } from '../manifests/labels';
import { apiVersionOf, R } from '../resources';
import { MemoryObjectApi } from './memory-object-api';
import { SimulatedConsole } from './simulated-console';

const SESSION = '76c3ac1b';
let consoles: SimulatedConsole | null = null;
afterEach(async () => consoles?.close());

async function vmi(api: MemoryObjectApi, role: Role, phase: string, ready: boolean) {
  const namespace = names.namespace(SESSION);
  const name = names.vm(role, SESSION);
  if (!(await api.get(R.namespace, undefined, namespace)))
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await api.create({
    apiVersion: apiVersionOf(R.vmi),
    kind: 'VirtualMachineInstance',
    metadata: { name, namespace, labels: { [LABELS.role]: role, [LABELS.session]: SESSION } },
    spec: {},
  });
  await api.patchStatus(R.vmi, namespace, name, { phase, conditions: ready ? [{ type: 'Ready', status: 'True' }] : [] });
}

/** Types a command and collects the output up to the next prompt. */
function session(connection: ConsoleConnection) {
  let screen = '';
  connection.onData((data) => (screen += Buffer.from(data).toString('utf8')));
  const until = async (pattern: RegExp) => {
    for (let i = 0; i < 200 && !pattern.test(screen); i++) await new Promise((r) => setTimeout(r, 10));
    expect(screen).toMatch(pattern);
  };
  return {
    screen: () => screen,
    until,
    async type(command: string) {
      const from = screen.length;
      connection.write(Buffer.from(`${command}\r`));
      for (let i = 0; i < 200 && !/# $/.test(screen.slice(from + command.length)); i++) await new Promise((r) => setTimeout(r, 10));
      return screen.slice(from);
    },
  };
}

describe('the simulated serial console (KubeVirt console subresource protocol over a loopback server)', () => {
  it('says it is simulated and answers hostname and kubectl get nodes from the simulated VMIs', async () => {
    const api = new MemoryObjectApi();
    await vmi(api, 'control-plane', 'Running', true);
    await vmi(api, 'worker', 'Running', false);
    consoles = new SimulatedConsole(api, 'v1.34.2');
    const shell = session(await consoles.openConsole(SESSION, 'control-plane'));
    await shell.until(/root@controlplane:~# $/);
    expect(shell.screen()).toMatch(/SIMULATOR: this console is simulated, no VM runs/);
    expect(await shell.type('hostname')).toMatch(/^hostname\r\ncontrolplane\r\nroot@controlplane:~# $/);
    const nodes = await shell.type('kubectl get nodes');
    expect(nodes).toMatch(/NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(nodes).toMatch(/controlplane\s+Ready\s+control-plane\s+\S+\s+v1\.34\.2/);
    expect(nodes).toMatch(/node01\s+NotReady\s+<none>\s+\S+\s+v1\.34\.2/);

    const worker = session(await consoles.openConsole(SESSION, 'worker'));
    await worker.until(/root@node01:~# $/);
    expect(await worker.type('hostname')).toContain('node01');
  });

  it('edits the line as a tty does: backspace erases, ^C abandons, escape sequences are dropped', async () => {
    const api = new MemoryObjectApi();
    await vmi(api, 'control-plane', 'Running', true);
    consoles = new SimulatedConsole(api, 'v1.34.2');
    const connection = await consoles.openConsole(SESSION, 'control-plane');
    const shell = session(connection);
    await shell.until(/# $/);
    connection.write(Buffer.from('hostx\x7fname\x1b[A'));
    expect(await shell.type('')).toMatch(/controlplane\r\n/);
    connection.write(Buffer.from('rm -rf /\x03'));
    await shell.until(/\^C\r\nroot@controlplane:~# $/);
  });

  it('refuses as virt-api does: no VMI, or a VMI that is not Running', async () => {
    const api = new MemoryObjectApi();
    await vmi(api, 'control-plane', 'Scheduling', false);
    consoles = new SimulatedConsole(api, 'v1.34.2');
    await expect(consoles.openConsole(SESSION, 'control-plane')).rejects.toThrow(PreconditionError);
    await expect(consoles.openConsole(SESSION, 'control-plane')).rejects.toThrow(/VMI is not running/);
    await expect(consoles.openConsole(SESSION, 'worker')).rejects.toThrow(/not found/);
  });
});
