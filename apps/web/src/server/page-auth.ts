import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { type Identity, identify } from './identity';
import { getRuntime } from './runtime';

/** The signed-in account of the page request, or null. */
export async function currentIdentity(): Promise<Identity | null> {
  const caller = await identify(await getRuntime(), await headers());
  return caller.ok ? caller.identity : null;
}

/** Pages are for signed-in accounts: anyone else goes to the sign-in page and comes back after. */
export async function requireSignIn(path: string): Promise<Identity> {
  const identity = await currentIdentity();
  if (!identity) redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  return identity;
}

/** Where to go after signing in: a path on this site only, never another origin. */
export function safeNext(next: string | string[] | undefined): string {
  return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}
