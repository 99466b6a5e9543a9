import type { Metadata } from 'next';
import { SessionDetailPage } from '~/components/session-detail/session-detail-page';
import { requireSignIn } from '~/server/page-auth';

interface Props {
  params: Promise<{ id: string }>;
}

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `Session ${id}` };
}

export default async function Page({ params }: Props) {
  const { id } = await params;
  await requireSignIn(`/sessions/${encodeURIComponent(id)}`);
  // A new id gets a fresh component, so no state of the previous session lingers.
  return <SessionDetailPage key={id} id={id} />;
}
