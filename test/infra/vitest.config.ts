// Local config for running the test-infra smoke test on its own:
//   cd test && npx vitest run --config infra/vitest.config.ts
// (The integration tier proper uses test/vitest.integration.config.ts.)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
    include: ['infra/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
