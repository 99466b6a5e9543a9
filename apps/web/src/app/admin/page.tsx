import type { Metadata } from 'next';
import { AdminPage } from '~/components/admin/admin-page';
import { Card } from '~/components/ui/card';
import { requireSignIn } from '~/server/page-auth';

export const metadata: Metadata = { title: 'Admin' };

export default async function Page() {
  const identity = await requireSignIn('/admin');
  if (identity.actor.role !== 'admin') {
    return (
      <Card title="Admins only" className="narrow-card">
        <p>This page is for admin accounts. You are signed in as {identity.name}, a learner.</p>
      </Card>
    );
  }
  return <AdminPage />;
}
