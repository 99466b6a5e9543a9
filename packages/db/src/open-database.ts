import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { SqliteAccounts } from './accounts';
import type { LabDb } from './lab-db';
import { SqliteMetrics } from './metrics';
import * as schema from './schema';
import { SqliteStore } from './store';

export interface LabDatabase {
  store: SqliteStore;
  metrics: SqliteMetrics;
  accounts: SqliteAccounts;
  db: LabDb;
  /** Folds the WAL into the database file (leaving it empty) and closes; closing twice is harmless. */
  close(): void;
}

export interface OpenDatabaseOptions {
  /** Where the committed migrations are; needed when a bundler moves this file away from them. */
  migrationsFolder?: string;
}

/**
 * The committed drizzle-kit migrations, next to this package's sources. Not written as
 * `new URL('../drizzle', import.meta.url)`: bundlers take that for an asset import, and Next.js
 * fails the build on a directory. In a Next.js server bundle `import.meta.url` is still this file.
 */
export const MIGRATIONS_FOLDER = join(dirname(fileURLToPath(import.meta.url)), '..', 'drizzle');

const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if needed) the lab database and brings its schema up to date.
 * `url` is a file path, a `file:` path or URL, or `:memory:`.
 */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): LabDatabase {
  const path = databasePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new Database(path);
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    sqlite.pragma('foreign_keys = ON');
    // With WAL, NORMAL loses at most the last commits on power loss, never consistency.
    sqlite.pragma('synchronous = NORMAL');
    const db = drizzle(sqlite, { schema });
    migrate(db, { migrationsFolder: options.migrationsFolder ?? MIGRATIONS_FOLDER });
    return {
      store: new SqliteStore(db),
      metrics: new SqliteMetrics(db),
      accounts: new SqliteAccounts(db),
      db,
      close: () => closeDatabase(sqlite),
    };
  } catch (error) {
    sqlite.close();
    throw error;
  }
}

function closeDatabase(sqlite: Database.Database): void {
  if (!sqlite.open) return;
  // TRUNCATE, not the implicit checkpoint on close: the -wal file is left empty even when another
  // process's connection keeps it from being deleted, so a copy of the .db alone is whole.
  sqlite.pragma('wal_checkpoint(TRUNCATE)');
  sqlite.close();
}

function databasePath(url: string): string {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (url.startsWith('file:')) return url.slice('file:'.length);
  return url;
}
