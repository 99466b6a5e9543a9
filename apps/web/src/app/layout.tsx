import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { ClusterBanner } from '~/components/cluster-banner';
import { SiteHeader } from '~/components/site-header';
import { Providers } from '~/lib/providers';
import { currentIdentity } from '~/server/page-auth';
import { getRuntime } from '~/server/runtime';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'cks-lab', template: '%s · cks-lab' },
  description: 'Your own two-node Kubernetes cluster for CKS practice.',
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  themeColor: '#1d4f91',
};

// Every page shows live state (and whether the cluster is simulated): render per request, never at build time.
export const dynamic = 'force-dynamic';

export default async function RootLayout({ children }: { children: ReactNode }) {
  const [{ simulation }, identity] = await Promise.all([getRuntime(), currentIdentity()]);
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Providers>
          <SiteHeader account={identity && { name: identity.name, role: identity.actor.role }} />
          <ClusterBanner simulation={simulation} signedIn={identity !== null} />
          <main id="main" className="page" tabIndex={-1}>
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
