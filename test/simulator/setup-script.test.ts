import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * The set-up that `npm test` and `npm start` do for themselves (scripts/setup.sh), each branch run
 * against stand-ins on PATH (npm, dpkg-query, apt-get, sudo, id, go) in a scratch checkout, so
 * nothing is installed on this machine. The stand-ins log how they were called.
 */
const SETUP = resolve(import.meta.dirname, '../../scripts/setup.sh');
let dir = '';
let bin = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cks-lab-setup-'));
  bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
  // npm ci as far as the check cares: node_modules with turbo and npm's own record of the install.
  stub(
    'npm',
    'mkdir -p node_modules/.bin && touch node_modules/.bin/turbo node_modules/.package-lock.json && chmod +x node_modules/.bin/turbo',
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell script, where ${@: -1} is the last argument.
  stub('dpkg-query', 'case " $INSTALLED " in *" ${@: -1} "*) printf "install ok installed";; *) exit 1;; esac');
  stub('apt-get', '');
  stub('id', 'echo "$USER_ID"');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function stub(name: string, body: string): void {
  const path = join(bin, name);
  writeFileSync(path, `#!/usr/bin/env bash\necho "${name} $*" >>"$CALLS"\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Runs `source setup.sh; <command>` in the scratch checkout; returns its status, stderr and the stand-ins' calls. */
function setup(command: string, env: Record<string, string> = {}): { status: number | null; stderr: string; calls: string[] } {
  const calls = join(dir, 'calls');
  rmSync(calls, { force: true });
  const result = spawnSync('bash', ['-c', `set -euo pipefail; source "${SETUP}"; ${command}`], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, CALLS: calls, USER_ID: '1000', INSTALLED: '', ...env },
    timeout: 30_000,
  });
  const logged = existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [];
  return { status: result.status, stderr: result.stderr, calls: logged.filter(Boolean) };
}

describe('npm dependencies', () => {
  it('installs on a fresh clone, not again while package-lock.json is unchanged, and again when it changes', () => {
    expect(setup('ensure_npm_dependencies').calls).toEqual(['npm ci --no-audit --no-fund']);
    expect(setup('ensure_npm_dependencies').calls).toEqual([]);
    writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}\n');
    expect(setup('ensure_npm_dependencies').calls).toEqual(['npm ci --no-audit --no-fund']);
  });

  it('trusts a tree installed before the stamp existed when npm recorded it after the lock, not before', () => {
    setup('ensure_npm_dependencies');
    rmSync(join(dir, 'node_modules/.cks-lab-lock-cksum'));
    expect(setup('ensure_npm_dependencies').calls).toEqual([]);
    rmSync(join(dir, 'node_modules/.cks-lab-lock-cksum'));
    utimesSync(join(dir, 'node_modules/.package-lock.json'), new Date(0), new Date(0));
    expect(setup('ensure_npm_dependencies').calls).toEqual(['npm ci --no-audit --no-fund']);
  });
});

describe('Debian packages', () => {
  const packages = 'chromium shellcheck openssl';
  /** What acted, leaving out the questions (dpkg-query, id). */
  const installs = (calls: string[]) => calls.filter((c) => /^(sudo|apt-get) /.test(c));

  it('does nothing when every package is installed', () => {
    const run = setup(`ensure_debian_packages ${packages}`, { INSTALLED: packages });
    expect(run.status).toBe(0);
    expect(installs(run.calls)).toEqual([]);
  });

  it('installs only the missing ones as root', () => {
    const run = setup(`ensure_debian_packages ${packages}`, { INSTALLED: 'openssl', USER_ID: '0' });
    expect(run.status).toBe(0);
    expect(installs(run.calls)).toEqual(['apt-get update -qq', 'apt-get install -y -qq --no-install-recommends chromium shellcheck']);
  });

  it('installs through passwordless sudo', () => {
    stub('sudo', '[ "$1" = -n ] && shift; "$@"');
    const run = setup(`ensure_debian_packages ${packages}`, { INSTALLED: 'openssl chromium' });
    expect(run.status).toBe(0);
    expect(installs(run.calls)).toEqual([
      'sudo -n true',
      'sudo apt-get update -qq',
      'apt-get update -qq',
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck',
      'apt-get install -y -qq --no-install-recommends shellcheck',
    ]);
  });

  it('without root or passwordless sudo, prints the exact command and fails, installing nothing', () => {
    stub('sudo', 'exit 1');
    const run = setup(`ensure_debian_packages ${packages}`, { INSTALLED: 'openssl' });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium shellcheck');
    expect(installs(run.calls)).toEqual(['sudo -n true']);
  });
});

describe('Go-built test binaries', () => {
  it('builds (or finds cached) both sets when Go is there', () => {
    stub('go', '');
    mkdirSync(join(dir, 'test/infra'), { recursive: true });
    for (const script of ['build-test-binaries.sh', 'build-control-plane-binaries.sh']) {
      writeFileSync(join(dir, 'test/infra', script), `echo "${script}" >>"$CALLS"\n`);
    }
    const run = setup('ensure_test_binaries');
    expect(run.status).toBe(0);
    expect(run.calls).toEqual(['build-test-binaries.sh', 'build-control-plane-binaries.sh']);
  });
});
