import type { Database } from 'better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import type * as schema from './schema';

/** The drizzle handle every query in this package runs on. */
export type LabDb = BetterSQLite3Database<typeof schema> & { $client: Database };
