/**
 * Prints, as multi-document YAML, every object a flow creates (built by the same builders the
 * cluster adapter uses), for review or `kubectl apply --dry-run=server`:
 *
 *   npm run manifests -- --strategy snapshot|bootstrap --session <id> [--golden-version N]
 *   npm run manifests -- --golden --session <id> [--version N]
 *
 * Bad or missing arguments: one line on stderr, exit code 2.
 */
import { createHash } from 'node:crypto';
import { assertSessionId, errorMessage, ROLES, type Role } from '@cks-lab/core';
import yaml from 'js-yaml';
import { generateBootstrapPki } from '../src/guest/bootstrap-pki';
import {
  bootstrapFlowObjects,
  DEFAULT_CLUSTER_SETTINGS,
  goldenBuildObjects,
  kubevirtVolumeSnapshotName,
  snapshotFlowObjects,
  vmSnapshot,
} from '../src/manifests';
import type { KubeObject } from '../src/object-api';

const USAGE = 'usage: manifests --strategy snapshot|bootstrap --session <id> [--golden-version N] | --golden --session <id> [--version N]';

type Command =
  | { kind: 'snapshot'; sessionId: string; goldenVersion: number }
  | { kind: 'bootstrap'; sessionId: string }
  | { kind: 'golden'; sessionId: string; version: number };

class UsageError extends Error {}

function parseArgs(args: readonly string[]): Command {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    const name = arg.slice(2);
    if (flags.has(name)) throw new UsageError(`--${name} given twice`);
    if (name === 'golden') {
      flags.set(name, true);
      continue;
    }
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
    flags.set(name, value);
    i++;
  }
  const allowed = flags.has('golden') ? ['golden', 'session', 'version'] : ['strategy', 'session', 'golden-version'];
  for (const name of flags.keys()) if (!allowed.includes(name)) throw new UsageError(`unknown or misplaced option --${name}`);
  const session = flags.get('session');
  if (typeof session !== 'string') throw new UsageError('--session <id> is required');
  const sessionId = assertSessionId(session);
  const version = (name: string) => {
    const value = flags.get(name) ?? '1';
    if (typeof value !== 'string' || !/^[1-9]\d{0,5}$/.test(value)) throw new UsageError(`--${name} must be a positive integer`);
    return Number(value);
  };
  if (flags.has('golden')) return { kind: 'golden', sessionId, version: version('version') };
  const strategy = flags.get('strategy');
  if (strategy === 'snapshot') return { kind: 'snapshot', sessionId, goldenVersion: version('golden-version') };
  if (strategy === 'bootstrap') {
    if (flags.has('golden-version')) throw new UsageError('--golden-version only applies to --strategy snapshot');
    return { kind: 'bootstrap', sessionId };
  }
  throw new UsageError(strategy === undefined ? '--strategy or --golden is required' : `unknown strategy "${String(strategy)}"`);
}

/** A UUID-shaped stand-in for a VirtualMachineSnapshot's uid, derived from its namespace/name. */
function standInUid(snapshot: KubeObject): string {
  const hex = createHash('sha256')
    .update(`${snapshot.metadata.namespace ?? ''}/${snapshot.metadata.name}`)
    .digest('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20, 32)].join('-');
}

async function render(command: Command): Promise<{ header: string[]; objects: KubeObject[] }> {
  const settings = DEFAULT_CLUSTER_SETTINGS;
  switch (command.kind) {
    case 'snapshot':
      return {
        header: [`Snapshot strategy for session ${command.sessionId}, golden image v${command.goldenVersion}.`],
        objects: snapshotFlowObjects(command.sessionId, command.goldenVersion, settings),
      };
    case 'bootstrap':
      return {
        header: [
          `Bootstrap strategy for session ${command.sessionId}; the worker is created once the control plane is ready.`,
          'The CA and bootstrap token are freshly generated on every run of this command.',
        ],
        objects: bootstrapFlowObjects(command.sessionId, settings, await generateBootstrapPki()),
      };
    case 'golden': {
      const volumeSnapshots = Object.fromEntries(
        ROLES.map((role) => [role, kubevirtVolumeSnapshotName(standInUid(vmSnapshot(command.sessionId, role, command.version)))]),
      ) as Record<Role, string>;
      return {
        header: [
          `Golden image v${command.version} built from session ${command.sessionId}.`,
          'VolumeSnapshot names are stand-ins: KubeVirt names them vmsnapshot-<VirtualMachineSnapshot uid>-volume-<volume>,',
          'and offline there is no uid, so a UUID-shaped hash of the snapshot namespace/name takes its place.',
        ],
        objects: goldenBuildObjects(command.sessionId, command.version, volumeSnapshots, settings),
      };
    }
  }
}

async function main(): Promise<void> {
  let command: Command;
  try {
    command = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`manifests: ${errorMessage(error)} (${USAGE})\n`);
    process.exit(2);
  }
  const { header, objects } = await render(command);
  const documents = objects.map((object) => yaml.dump(object, { lineWidth: -1, noRefs: true }));
  process.stdout.write(`${header.map((line) => `# ${line}`).join('\n')}\n${documents.join('---\n')}`);
}

await main();
