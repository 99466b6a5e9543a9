import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** End-to-end: the production build on the simulator, driven in Debian's Chromium. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['e2e/**/*.test.ts'],
    // One flow, one server, one browser: nothing to run in parallel.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 90_000,
  },
});
