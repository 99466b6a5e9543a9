import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Component tests render to static HTML with react-dom/server in Node: they check what a
 * component shows and how it labels it. Interaction (dialogs, keyboard) is covered by the
 * end-to-end test in real Chromium.
 */
export default defineConfig({
  resolve: {
    alias: { '~': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  test: {
    include: ['src/**/*.test.{ts,tsx}', 'cli/**/*.test.ts'],
    environment: 'node',
    // The router tests sign in through better-auth (scrypt password hashes on a real database):
    // with every package's tests running at once on 2 cores they need more than the 5 s default.
    testTimeout: 30_000,
  },
});
