import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { include: ['simulator/**/*.test.ts'], pool: 'forks', fileParallelism: false, testTimeout: 120_000 },
});
