import { TransientError } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import { R } from '../resources';
import { MemoryObjectApi } from './memory-object-api';
import { PlatformObjectApi } from './platform-object-api';

describe('PlatformObjectApi with the api-error fault', () => {
  const failed = async (api: PlatformObjectApi) =>
    api.get(R.namespace, undefined, 'x').then(
      () => false,
      (error: unknown) => error instanceof TransientError,
    );

  it('fails about one call in n, the same calls on every run', async () => {
    const pattern = async () => {
      const api = new PlatformObjectApi(new MemoryObjectApi(), 7);
      const outcomes: boolean[] = [];
      for (let i = 0; i < 7000; i++) outcomes.push(await failed(api));
      return outcomes;
    };
    const first = await pattern();
    expect(first.filter(Boolean).length / first.length).toBeGreaterThan(0.1);
    expect(first.filter(Boolean).length / first.length).toBeLessThan(0.2);
    expect(await pattern()).toEqual(first);
  });

  // A retry loop whose attempts make a multiple of n calls met a failure at the same call of every
  // attempt when exactly every n-th call failed: the golden build's snapshot phase never finished.
  it('lets a retry loop of any period through', async () => {
    for (const callsPerAttempt of [7, 10, 11, 14, 21]) {
      const api = new PlatformObjectApi(new MemoryObjectApi(), 7);
      let attempts = 0;
      for (let succeeded = false; !succeeded && attempts < 100; attempts++) {
        const results = [];
        for (let call = 0; call < callsPerAttempt; call++) results.push(await failed(api));
        succeeded = !results.some(Boolean);
      }
      expect(attempts, `${callsPerAttempt} calls per attempt`).toBeLessThan(100);
    }
  });
});
