import Link from 'next/link';
import { EmptyState } from '~/components/ui/empty-state';

export default function NotFound() {
  return (
    <>
      <div className="page-heading">
        <h1>Page not found</h1>
      </div>
      <EmptyState title="There is nothing at this address." action={<Link href="/">Go to the sessions</Link>} />
    </>
  );
}
