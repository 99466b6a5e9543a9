// The integration tier (docs/architecture.md#tests): a real kube-apiserver + etcd + kube-controller-manager per test
// file (test/infra/cluster.ts), with the simulator's controllers playing KubeVirt and CDI.
//   npm run test:integration
// Files run one after another: each starts its own control plane, and two at once would only
// compete for the same two cores.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: path.dirname(fileURLToPath(import.meta.url)),
    include: ['integration/**/*.test.ts', 'infra/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
