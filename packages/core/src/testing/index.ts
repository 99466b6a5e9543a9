/** In-memory fakes of core's ports and helpers for unit tests (import from '@cks-lab/core/testing'). */

export * from './fake-cluster';
export * from './harness';
export * from './memory-store';
export * from './test-clock';
