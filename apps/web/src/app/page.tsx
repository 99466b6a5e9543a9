import type { Metadata } from 'next';
import { SessionsPage } from '~/components/sessions/sessions-page';
import { requireSignIn } from '~/server/page-auth';

export const metadata: Metadata = { title: 'Sessions' };

export default async function Home() {
  const identity = await requireSignIn('/');
  return <SessionsPage showOwners={identity.actor.role === 'admin'} />;
}
