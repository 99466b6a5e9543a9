import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../object-api';
import { CORE_KINDS, crdValidator } from './examples-for-tests';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../../../node_modules/.bin/tsx', import.meta.url));

/** Runs the script as `npm run manifests` does (tsx), asynchronously so cases can run concurrently. */
function manifests(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, ['scripts/manifests.ts', ...args], { cwd: PACKAGE_DIR, encoding: 'utf8' }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

function documents(stdout: string): KubeObject[] {
  return yaml.loadAll(stdout) as KubeObject[];
}

function expectValid(objects: KubeObject[]): void {
  const validator = crdValidator();
  for (const object of objects) {
    expect(object.metadata.name).toBeTruthy();
    if (!validator) continue;
    if (validator.covers(object)) expect(validator.validate(object), `${object.kind} ${object.metadata.name}`).toEqual([]);
    else expect(CORE_KINDS).toContain(`${object.apiVersion}/${object.kind}`);
  }
}

describe.concurrent('npm run manifests', () => {
  it('prints the snapshot strategy objects as multi-document YAML', async () => {
    const result = await manifests('--strategy', 'snapshot', '--session', '76c3ac1b', '--golden-version', '4');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^# Snapshot strategy for session 76c3ac1b, golden image v4/);
    const objects = documents(result.stdout);
    expect(objects.map((object) => object.kind)).toEqual([
      'Namespace',
      'NetworkAttachmentDefinition',
      'NetworkPolicy',
      'RoleBinding',
      'Service',
      'Secret',
      'VirtualMachine',
      'Secret',
      'VirtualMachine',
    ]);
    expect(result.stdout).toContain('name: cks-control-plane-golden-v4');
    expectValid(objects);
  });

  it('prints the bootstrap strategy objects with a fresh PKI', async () => {
    const result = await manifests('--strategy', 'bootstrap', '--session', '76c3ac1b');
    expect(result.status, result.stderr).toBe(0);
    const objects = documents(result.stdout);
    expect(objects.filter((object) => object.kind === 'Secret').map((object) => object.metadata.name)).toContain('cks-lab-bootstrap');
    expectValid(objects);
  });

  it('prints the golden image build with stand-in VolumeSnapshot names, and says so', async () => {
    const result = await manifests('--golden', '--session', '76c3ac1b', '--version', '7');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^# Golden image v7 built from session 76c3ac1b/);
    expect(result.stdout).toMatch(/# VolumeSnapshot names are stand-ins/);
    const objects = documents(result.stdout);
    expect(objects.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      'VirtualMachineSnapshot/cks-control-plane-base-snapshot-v7',
      'VirtualMachineSnapshot/cks-worker-base-snapshot-v7',
      'DataVolume/cks-control-plane-golden-v7',
      'DataVolume/cks-worker-golden-v7',
      'DataSource/cks-control-plane-golden',
      'DataSource/cks-worker-golden',
    ]);
    const snapshotName = (objects[2] as unknown as { spec: { source: { snapshot: { name: string } } } }).spec.source.snapshot.name;
    expect(snapshotName).toMatch(/^vmsnapshot-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-volume-root$/);
    expect((await manifests('--golden', '--session', '76c3ac1b', '--version', '7')).stdout).toBe(result.stdout);
    expectValid(objects);
  });

  it.each([
    [[]],
    [['--strategy', 'snapshot']],
    [['--strategy', 'fast', '--session', '76c3ac1b']],
    [['--strategy', 'snapshot', '--session', 'NOT-AN-ID']],
    [['--strategy', 'snapshot', '--session', '76c3ac1b', '--golden-version', 'zero']],
    [['--strategy', 'bootstrap', '--session', '76c3ac1b', '--golden-version', '2']],
    [['--golden', '--session', '76c3ac1b', '--strategy', 'snapshot']],
    [['--session']],
    [['stray']],
  ])('rejects %j with one line on stderr and exit code 2', async (args) => {
    const result = await manifests(...args);
    expect(result.status, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^manifests: /);
  });
});
