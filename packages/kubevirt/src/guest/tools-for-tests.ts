import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';

/**
 * Helpers for the tests that run real tools on what we generate. A missing tool skips its test
 * with a printed message — except under CI (env CI set), where it fails: CI must run them.
 */
export function toolAvailable(tool: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).status === 0;
  if (found) return true;
  if (process.env.CI) throw new Error(`${tool} is required under CI (apt-get install -y ${tool})`);
  console.warn(`skipping ${tool} checks: ${tool} is not installed (apt-get install -y ${tool})`);
  return false;
}

/** Runs a tool; returns its exit status and combined output. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): { status: number; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: options.env ?? process.env, input: options.input });
  return { status: result.status ?? -1, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** Writes files (relative paths) into a fresh temporary directory and hands its path to `use`; removes it afterwards. */
export function withTempDir<T>(files: Record<string, string>, use: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'cks-lab-'));
  try {
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), content, { mode: 0o755 });
    }
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CloudConfigFile {
  path: string;
  content: string;
  permissions?: string;
}

export interface ParsedCloudConfig {
  [key: string]: unknown;
  write_files?: CloudConfigFile[];
  runcmd?: unknown[];
  bootcmd?: unknown[];
}

export function parseCloudConfig(userData: string): ParsedCloudConfig {
  if (!userData.startsWith('#cloud-config\n')) throw new Error('user data does not start with #cloud-config');
  return yaml.load(userData) as ParsedCloudConfig;
}

/** The interpreter a script's shebang names, for shellcheck's --shell. */
export function scriptShell(script: string): 'sh' | 'bash' | null {
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(script);
  if (!shebang) return null;
  const interpreter = shebang[1]?.endsWith('/env') ? shebang[2] : shebang[1];
  if (interpreter?.endsWith('/bash') || interpreter === 'bash') return 'bash';
  if (interpreter?.endsWith('/sh') || interpreter === 'sh') return 'sh';
  return null;
}

/** shellcheck's findings for a script ('' when clean). */
export function shellcheck(script: string, shell: 'sh' | 'bash'): string {
  return withTempDir({ 'script.sh': script }, (dir) => {
    const result = run('shellcheck', ['--shell', shell, '--severity', 'style', join(dir, 'script.sh')]);
    return result.status === 0 ? '' : result.output;
  });
}

export function openssl(args: string[], input: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8' });
}
