import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_VARIABLES, readServerConfig } from './config';

describe('WARM_POOL_SIZE', () => {
  it('defaults to 2 on the simulator and 0 on a real cluster, where each member holds two VMs', () => {
    expect(readServerConfig({}).lab.warmPoolSize).toBe(2);
    expect(readServerConfig({ LAB_CLUSTER: 'kube' }).lab.warmPoolSize).toBe(0);
    expect(readServerConfig({ LAB_CLUSTER: 'kube', WARM_POOL_SIZE: '4' }).lab.warmPoolSize).toBe(4);
  });

  it('refuses a negative size', () => {
    expect(() => readServerConfig({ WARM_POOL_SIZE: '-1' })).toThrow(/WARM_POOL_SIZE/);
  });
});

describe('an invalid environment', () => {
  it('names every wrong variable and why', () => {
    expect(() => readServerConfig({ SIM_TIME_SCALE: 'fast', ADMIN_TOKEN: 'short' })).toThrow(
      /^invalid environment: SIM_TIME_SCALE: .*; ADMIN_TOKEN: ADMIN_TOKEN must be at least 16 characters$/,
    );
    expect(() => readServerConfig({ LAB_CLUSTER: 'minikube' })).toThrow(/LAB_CLUSTER/);
    expect(() => readServerConfig({ LAB_ADMIN_USERNAME: 'root' })).toThrow(/LAB_ADMIN_PASSWORD/);
  });
});

describe('turbo.json', () => {
  // `npm start` builds through turbo: a run-time setting among the build's inputs would rebuild on every change of it.
  it('keeps run-time settings out of the build hash', () => {
    const turbo = JSON.parse(readFileSync(new URL('../../../../turbo.json', import.meta.url), 'utf8')) as {
      globalEnv: string[];
      tasks: Record<string, { env?: string[] }>;
    };
    const hashed = [...turbo.globalEnv, ...Object.values(turbo.tasks).flatMap((task) => task.env ?? [])];
    expect(hashed.filter((name) => RUNTIME_VARIABLES.includes(name))).toEqual([]);
    // Next.js inlines only these into the build.
    expect(hashed.every((name) => name === 'NODE_ENV' || name.startsWith('NEXT_PUBLIC_'))).toBe(true);
  });
});
