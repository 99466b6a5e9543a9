import { parseArgs } from 'node:util';

/** Every command the CLI has: its words, what it takes and what it does (the usage text is made from this). */
export const COMMANDS = [
  { name: 'sessions create', args: '[--wait]', does: 'start a session (--wait: until running or failed, with progress on stderr)' },
  { name: 'sessions list', args: '[--all]', does: 'sessions (--all: include ended ones)' },
  { name: 'sessions get', args: '<id>', does: "status, steps and the session's cluster objects", needs: 'a session id' },
  { name: 'sessions delete', args: '<id>', does: 'end a session', needs: 'a session id' },
  { name: 'sessions extend', args: '<id>', does: "extend a session's expiry", needs: 'a session id' },
  { name: 'snapshots status', args: '', does: 'the golden image and the active strategy (admin)' },
  { name: 'snapshots create', args: '<sessionId>', does: 'build the golden image from a running session (admin)', needs: 'a session id' },
  { name: 'snapshots recreate', args: '<sessionId>', does: 'replace the golden image (admin)', needs: 'a session id' },
  { name: 'snapshots delete', args: '', does: 'remove the golden image (admin)' },
  { name: 'users list', args: '', does: 'accounts, their roles and active sessions (admin)' },
  {
    name: 'users create',
    args: '[--admin] <name>',
    does: 'a learner (or admin) account; prints its generated password once',
    needs: 'a username',
  },
  {
    name: 'users reset-password',
    args: '<name>',
    does: "a new generated password, printed once; ends the account's sign-ins",
    needs: 'a username',
  },
  { name: 'users disable', args: '<name>', does: 'no more sign-ins; its current ones end', needs: 'a username' },
  { name: 'users enable', args: '<name>', does: 'allow sign-in again', needs: 'a username' },
  { name: 'pool status', args: '', does: 'the warm pool: target, ready, provisioning, failing and why (admin)' },
  { name: 'pool resize', args: '<n>', does: 'keep n sessions warm (until the next restart) (admin)', needs: 'a size' },
  { name: 'metrics', args: '', does: 'time-to-ready per strategy (warm too), the improvement and the pool hit rate' },
  { name: 'whoami', args: '', does: 'who the CLI acts as' },
] as const;

export type CommandName = (typeof COMMANDS)[number]['name'];

const GROUPS = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0]!))];

const OPTIONS = `options: --json  one JSON document on stdout   --no-wait  return at once from snapshots create/recreate
         --as <username>  act for that account (sessions are then theirs)
env: LAB_URL (default http://localhost:3000), LAB_ADMIN_TOKEN (default: the server's data/admin-token
     when it is on this machine: LAB_DATA_DIR or <repository>/data)`;

/** The usage text: every command, or one group's. */
export function usage(group?: string): string {
  const commands = COMMANDS.filter((c) => !group || c.name.split(' ')[0] === group);
  const width = Math.max(...commands.map((c) => `${c.name} ${c.args}`.length));
  const lines = commands.map((c) => `  ${`${c.name} ${c.args}`.padEnd(width)}  ${c.does}`);
  return [
    `usage: npm run -s lab -- ${group ?? '<command>'}${group ? ' <command>' : ''} [--json] [--as <username>]`,
    ...lines,
    OPTIONS,
  ].join('\n');
}

const helpHint = (group?: string) => `the commands: npm run -s lab -- help${group ? ` ${group}` : ''}`;

export interface Options {
  json: boolean;
  wait: boolean;
  noWait: boolean;
  all: boolean;
  admin: boolean;
  as: string | undefined;
}

export type Invocation = { kind: 'help'; text: string } | { kind: 'run'; command: CommandName; arg: string | undefined; options: Options };

export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage to print after the message. */
    readonly help: string,
  ) {
    super(message);
  }
}

/** node:util's parse of the flags; what it refuses is a usage error. */
function readArgs(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        wait: { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        all: { type: 'boolean' },
        admin: { type: 'boolean' },
        as: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), usage());
  }
}

/** Reads the command line: `help`, a bare group, or a known command with its argument; a typo gets the nearest command. */
export function parseCommandLine(argv: readonly string[]): Invocation {
  const parsed = readArgs(argv);
  const { values, positionals } = parsed;
  const [group, command, arg, ...extra] = positionals;
  if (!group || group === 'help') return { kind: 'help', text: usage(GROUPS.includes(command ?? '') ? command : undefined) };
  if (values.help && GROUPS.includes(group)) return { kind: 'help', text: usage(group) };
  if (values.help) return { kind: 'help', text: usage() };
  const options: Options = {
    json: Boolean(values.json),
    wait: Boolean(values.wait),
    noWait: Boolean(values['no-wait']),
    all: Boolean(values.all),
    admin: Boolean(values.admin),
    as: values.as,
  };

  const single = COMMANDS.find((c) => c.name === group);
  if (single) {
    if (command !== undefined) throw new UsageError(`${group} takes no argument (got "${command}")`, usage());
    return { kind: 'run', command: single.name, arg: undefined, options };
  }
  if (!GROUPS.includes(group)) {
    const nearest = nearestOf(group, GROUPS);
    throw new UsageError(`unknown command "${group}"${nearest ? `; did you mean ${nearest}?` : ''}`, helpHint());
  }
  // A bare group is a question: what can it do?
  if (command === undefined) return { kind: 'help', text: usage(group) };
  const found = COMMANDS.find((c) => c.name === `${group} ${command}`);
  if (!found) {
    const nearest = nearestOf(
      `${group} ${command}`,
      COMMANDS.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name),
    );
    throw new UsageError(`unknown command "${group} ${command}"${nearest ? `; did you mean ${nearest}?` : ''}`, helpHint(group));
  }
  const needs = 'needs' in found ? found.needs : undefined;
  if (needs && arg === undefined) throw new UsageError(`${found.name} needs ${needs}`, usage(group));
  if ((!needs && arg !== undefined) || extra.length > 0) {
    throw new UsageError(
      `${found.name} takes ${needs ? 'one argument' : 'no argument'} (got "${[arg, ...extra].filter(Boolean).join(' ')}")`,
      usage(group),
    );
  }
  return { kind: 'run', command: found.name, arg, options };
}

/** The candidate closest to a typo, when it is close enough to be what was meant. */
export function nearestOf(typed: string, candidates: readonly string[]): string | null {
  let best: { name: string; distance: number } | null = null;
  for (const name of candidates) {
    const distance = editDistance(typed.toLowerCase(), name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  // A third of the word may differ: "sesions", "metric", "sessions lst", not "foo".
  return best && best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
