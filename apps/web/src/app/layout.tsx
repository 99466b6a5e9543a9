import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import { ClusterBanner } from '~/components/cluster-banner';
import { SiteHeader } from '~/components/site-header';
import { Providers } from '~/lib/providers';
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

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Providers>
          <SiteHeader />
          <ClusterBanner />
          <main id="main" className="page" tabIndex={-1}>
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
