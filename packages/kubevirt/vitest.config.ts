import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Some tests run external tools (openssl, shellcheck, cloud-init schema, tsx) and compile the
    // large KubeVirt CRD schemas; a loaded 2-core machine needs more than the 5 s default.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
