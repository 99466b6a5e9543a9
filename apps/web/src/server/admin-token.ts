import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@cks-lab/core';

/** A secret kept in the data directory, readable by the owner only (0600); made at the first start. */
function secretFile(dataDir: string, name: string): { value: string; path: string; created: boolean } {
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), path, created: false };
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(name === 'auth-secret' ? 32 : 24).toString('base64url');
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, path, created: true };
}

/**
 * The admin token: ADMIN_TOKEN when set; otherwise generated once, stored in the data directory
 * and printed at that first start only.
 */
export function loadAdminToken(dataDir: string, fromEnv: string | undefined, logger: Logger): string {
  if (fromEnv) return fromEnv;
  const { value, path, created } = secretFile(dataDir, 'admin-token');
  if (created) {
    logger.info({ path }, 'generated the admin token (shown once; it is also in the file)');
    process.stdout.write(`\n  cks-lab admin token: ${value}\n  (stored in ${path}, mode 0600)\n\n`);
  }
  return value;
}

/** The key that signs sign-in cookies: AUTH_SECRET when set, else generated once into the data directory. */
export function loadAuthSecret(dataDir: string, fromEnv: string | undefined): string {
  return fromEnv ?? secretFile(dataDir, 'auth-secret').value;
}

export function tokenMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
