import { describe, expect, it } from 'vitest';
import { readServerConfig } from './config';

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
