import { ACTIVE_SESSION_STATUSES, type AccountRole } from '@cks-lab/core';
import { and, asc, count, eq, inArray } from 'drizzle-orm';
import type { LabDb } from './lab-db';
import { authSessions, sessions, users } from './schema';

export interface Account {
  id: string;
  /** Null for an OIDC account whose issuer gave none. */
  username: string | null;
  name: string;
  email: string;
  role: AccountRole;
  disabled: boolean;
  createdAt: number;
}

const accountColumns = {
  id: users.id,
  username: users.username,
  name: users.name,
  email: users.email,
  role: users.role,
  disabled: users.disabled,
  createdAt: users.createdAt,
};

type AccountRow = Omit<Account, 'createdAt'> & { createdAt: Date };
const toAccount = (row: AccountRow): Account => ({ ...row, createdAt: row.createdAt.getTime() });

/**
 * Reads and admin changes on the accounts better-auth stores. Creating accounts and setting
 * passwords go through the library (it hashes); this is what it has no API for without a
 * signed-in admin: lookups by name, lists for the admin page, and disabling.
 */
export class SqliteAccounts {
  constructor(private readonly db: LabDb) {}

  async get(id: string): Promise<Account | null> {
    const row = this.db.select(accountColumns).from(users).where(eq(users.id, id)).get();
    return row ? toAccount(row) : null;
  }

  async findByUsername(username: string): Promise<Account | null> {
    const row = this.db.select(accountColumns).from(users).where(eq(users.username, username.toLowerCase())).get();
    return row ? toAccount(row) : null;
  }

  /** Every account, oldest first, with how many active lab sessions it owns. */
  async list(): Promise<Array<Account & { activeSessions: number }>> {
    const active = this.db
      .select({ ownerId: sessions.ownerId, active: count().as('active') })
      .from(sessions)
      .where(inArray(sessions.status, [...ACTIVE_SESSION_STATUSES]))
      .groupBy(sessions.ownerId)
      .as('active');
    const rows = this.db
      .select({ ...accountColumns, activeSessions: active.active })
      .from(users)
      .leftJoin(active, eq(active.ownerId, users.id))
      .orderBy(asc(users.createdAt), asc(users.id))
      .all();
    return rows.map(({ activeSessions, ...row }) => ({ ...toAccount(row), activeSessions: activeSessions ?? 0 }));
  }

  /** What to call each owner in lists: the username, else the e-mail address. */
  async displayNames(ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = this.db
      .select({ id: users.id, username: users.username, email: users.email })
      .from(users)
      .where(inArray(users.id, [...new Set(ids)]))
      .all();
    return new Map(rows.map((row) => [row.id, row.username ?? row.email]));
  }

  async countAdmins(): Promise<number> {
    const [row] = this.db
      .select({ admins: count() })
      .from(users)
      .where(and(eq(users.role, 'admin'), eq(users.disabled, false)))
      .all();
    return row?.admins ?? 0;
  }

  /** Disabling also ends the account's sign-ins at once (its auth sessions are removed). */
  async setDisabled(id: string, disabled: boolean): Promise<Account | null> {
    return this.db.transaction(
      (tx) => {
        const row = tx.update(users).set({ disabled, updatedAt: new Date() }).where(eq(users.id, id)).returning(accountColumns).get();
        if (row && disabled) tx.delete(authSessions).where(eq(authSessions.userId, id)).run();
        return row ? toAccount(row) : null;
      },
      { behavior: 'immediate' },
    );
  }
}
