import type { Actor } from '@cks-lab/core';
import { tokenMatches } from './admin-token';
import type { Runtime } from './runtime';

/** Internal tools act for a learner with the admin token and this header (`lab --as <username>`). */
export const ACT_AS_HEADER = 'x-lab-act-as';

export interface Identity {
  actor: Actor;
  /** Who that is, for the page header and logs. */
  name: string;
  via: 'account' | 'admin-token';
}

export type Identification =
  | { ok: true; identity: Identity }
  /** Credentials were presented and are wrong: the caller is told why, not treated as anonymous. */
  | { ok: false; code: 'FORBIDDEN' | 'BAD_REQUEST'; message: string }
  | { ok: true; identity: null };

/**
 * Who is asking: the admin token (an internal tool, as itself or for a learner) or the signed-in
 * account's cookie. A disabled account has no sign-ins left, so it is anonymous here.
 */
export async function identify(runtime: Runtime, headers: Headers): Promise<Identification> {
  const authorization = headers.get('authorization') ?? '';
  const token = authorization.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : null;
  if (token !== null) {
    if (!tokenMatches(runtime.adminToken, token)) return { ok: false, code: 'FORBIDDEN', message: 'the admin token is not valid' };
    const actAs = headers.get(ACT_AS_HEADER);
    if (!actAs) return { ok: true, identity: { actor: { role: 'admin', userId: null }, name: 'admin token', via: 'admin-token' } };
    const account = await runtime.accounts.findByUsername(actAs);
    if (!account) return { ok: false, code: 'BAD_REQUEST', message: `no account named ${actAs}` };
    if (account.disabled) return { ok: false, code: 'FORBIDDEN', message: `the account ${account.username} is disabled` };
    const actor: Actor = account.role === 'admin' ? { role: 'admin', userId: account.id } : { role: 'learner', userId: account.id };
    return { ok: true, identity: { actor, name: account.username ?? account.email, via: 'admin-token' } };
  }
  const signedIn = await runtime.auth.api.getSession({ headers });
  if (!signedIn || signedIn.user.disabled) return { ok: true, identity: null };
  const { user } = signedIn;
  const actor: Actor = user.role === 'admin' ? { role: 'admin', userId: user.id } : { role: 'learner', userId: user.id };
  return { ok: true, identity: { actor, name: user.username ?? user.email, via: 'account' } };
}
