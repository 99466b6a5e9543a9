import type { NextConfig } from 'next';

/**
 * Next.js's App Router inlines its hydration scripts, so scripts need 'unsafe-inline' short of a
 * per-request nonce (which would make every response uncacheable); everything else is this
 * origin only, and nothing may frame the pages. Development adds eval for React's refresh.
 */
const CSP = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === 'production' ? '' : " 'unsafe-eval'"}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = [
  { key: 'Content-Security-Policy', value: CSP },
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  { key: 'Referrer-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
];

const config: NextConfig = {
  // Internal packages ship TypeScript source (just-in-time packages, as in create-t3-turbo).
  transpilePackages: ['@cks-lab/core', '@cks-lab/db', '@cks-lab/kubevirt'],
  // Native and Node-only libraries stay outside the bundle.
  serverExternalPackages: ['better-sqlite3', '@kubernetes/client-node', 'pino', 'prom-client', '@peculiar/x509'],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
  // Every response, pages and API alike.
  headers: async () => [{ source: '/:path*', headers: SECURITY_HEADERS }],
};

export default config;
