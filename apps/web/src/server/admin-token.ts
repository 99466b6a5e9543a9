import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@cks-lab/core';

/**
 * The admin token: ADMIN_TOKEN when set; otherwise generated once, stored in the data directory
 * readable by the owner only (0600), and printed at that first start only.
 */
export function loadAdminToken(dataDir: string, fromEnv: string | undefined, logger: Logger): string {
  if (fromEnv) return fromEnv;
  const path = join(dataDir, 'admin-token');
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  logger.info({ path }, 'generated the admin token (shown once; it is also in the file)');
  process.stdout.write(`\n  cks-lab admin token: ${token}\n  (stored in ${path}, mode 0600)\n\n`);
  return token;
}

export function tokenMatches(expected: string, presented: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
