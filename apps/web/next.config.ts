import type { NextConfig } from 'next';

const config: NextConfig = {
  // Internal packages ship TypeScript source (just-in-time packages, as in create-t3-turbo).
  transpilePackages: ['@cks-lab/core', '@cks-lab/db', '@cks-lab/kubevirt'],
  // Native and Node-only libraries stay outside the bundle.
  serverExternalPackages: ['better-sqlite3', '@kubernetes/client-node', 'pino', 'prom-client', '@peculiar/x509'],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
};

export default config;
