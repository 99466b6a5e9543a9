import { randomBytes } from 'node:crypto';
import { type AccountRole, type Actor, ConflictError, type Logger, NotFoundError, ValidationError } from '@cks-lab/core';
import type { Account, SqliteAccounts } from '@cks-lab/db';
import type { Auth } from './auth';

/** Lowercase letters, digits, `_` and `.`, 3–30 long: what better-auth's username sign-in accepts. */
const USERNAME = /^[a-z0-9][a-z0-9_.]{2,29}$/;

/** Local accounts have no mailbox; the address only satisfies the library's unique e-mail column. */
const localEmail = (username: string) => `${username}@local.invalid`;

/** 20 characters from 120 random bits. */
const generatePassword = () => randomBytes(15).toString('base64url');

export interface IssuedPassword {
  account: Account;
  /** Shown once to the admin who asked; only its hash is stored. */
  password: string;
}

/**
 * Account administration: creating local accounts and resetting passwords through better-auth
 * (which hashes), disabling through the store (which also ends the account's sign-ins).
 */
export class Accounts {
  constructor(
    private readonly auth: Auth,
    private readonly store: SqliteAccounts,
    private readonly logger: Logger,
  ) {}

  list() {
    return this.store.list();
  }

  findByUsername(username: string) {
    return this.store.findByUsername(username);
  }

  displayNames(ids: readonly string[]) {
    return this.store.displayNames(ids);
  }

  async create(input: { username: string; role: AccountRole; password?: string }): Promise<IssuedPassword> {
    const username = input.username.toLowerCase();
    if (!USERNAME.test(username)) {
      throw new ValidationError(`username "${input.username}": 3–30 letters, digits, "_" or ".", starting with a letter or digit`);
    }
    if (await this.store.findByUsername(username)) throw new ConflictError(`an account named ${username} already exists`);
    const password = input.password ?? generatePassword();
    const ctx = await this.auth.$context;
    const hash = await ctx.password.hash(password);
    const user = await ctx.internalAdapter.createUser(
      { email: localEmail(username), name: username, username, role: input.role, emailVerified: true },
      { method: 'admin' },
    );
    await ctx.internalAdapter.linkAccount({ providerId: 'credential', accountId: user.id, password: hash, userId: user.id });
    this.logger.info({ username, role: input.role }, 'account created');
    return { account: await this.require(user.id), password };
  }

  /** A new generated password; the account's current sign-ins end. */
  async resetPassword(id: string): Promise<IssuedPassword> {
    const account = await this.require(id);
    if (!account.username) throw new ValidationError(`${account.email} signs in with single sign-on and has no password here`);
    const password = generatePassword();
    const ctx = await this.auth.$context;
    const hash = await ctx.password.hash(password);
    if (await ctx.internalAdapter.findCredentialAccount(id)) await ctx.internalAdapter.updatePassword(id, hash);
    else await ctx.internalAdapter.createAccount({ providerId: 'credential', accountId: id, password: hash, userId: id });
    await ctx.internalAdapter.deleteUserSessions(id);
    this.logger.info({ username: account.username }, 'password reset');
    return { account, password };
  }

  async setDisabled(id: string, disabled: boolean, by: Actor): Promise<Account> {
    if (disabled && by.userId === id) throw new ValidationError('you cannot disable your own account');
    const account = await this.store.setDisabled(id, disabled);
    if (!account) throw new NotFoundError(`account ${id} does not exist`);
    this.logger.info({ username: account.username ?? account.email, disabled }, disabled ? 'account disabled' : 'account enabled');
    return account;
  }

  /** At start-up: the admin from LAB_ADMIN_USERNAME/LAB_ADMIN_PASSWORD, when it does not exist yet. */
  async ensureFirstAdmin(firstAdmin: { username: string; password: string } | null): Promise<void> {
    if (!firstAdmin) return;
    const existing = await this.store.findByUsername(firstAdmin.username);
    if (!existing) await this.create({ ...firstAdmin, role: 'admin' });
    else if (existing.role !== 'admin')
      this.logger.warn({ username: existing.username }, 'LAB_ADMIN_USERNAME names an existing learner account; it stays a learner');
  }

  /** While there is no admin account at all: how to make one, for the server to print at start. */
  async firstAdminHint(): Promise<string | null> {
    if ((await this.store.countAdmins()) > 0) return null;
    return [
      '',
      '  cks-lab has no admin account yet. Create one (it prints a generated password once):',
      '    npm run lab -- users create --admin <username>',
      '  or start with LAB_ADMIN_USERNAME and LAB_ADMIN_PASSWORD set. Then sign in at /sign-in.',
      '',
      '',
    ].join('\n');
  }

  private async require(id: string): Promise<Account> {
    const account = await this.store.get(id);
    if (!account) throw new NotFoundError(`account ${id} does not exist`);
    return account;
  }
}
