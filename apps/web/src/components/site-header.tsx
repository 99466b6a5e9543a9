'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { SignOutButton } from './auth/sign-out-button';

const LINKS = [
  { href: '/', label: 'Sessions', admin: false, matches: (path: string) => path === '/' || path.startsWith('/sessions') },
  { href: '/metrics', label: 'Metrics', admin: false, matches: (path: string) => path.startsWith('/metrics') },
  { href: '/admin', label: 'Admin', admin: true, matches: (path: string) => path.startsWith('/admin') },
];

export interface HeaderAccount {
  name: string;
  role: 'learner' | 'admin';
}

export function SiteHeader({ account }: { account: HeaderAccount | null }) {
  const pathname = usePathname();
  return (
    <header className="site-header">
      <div className="site-header-inner">
        <Link href="/" className="brand">
          <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 2 21 7v10l-9 5-9-5V7z" fill="currentColor" />
            <path d="M12 7.5 16.5 10v4L12 16.5 7.5 14v-4z" fill="var(--surface)" />
          </svg>
          cks-lab
        </Link>
        {account && (
          <>
            <nav aria-label="Main">
              <ul className="nav-list">
                {LINKS.filter((link) => !link.admin || account.role === 'admin').map((link) => (
                  <li key={link.href}>
                    <Link href={link.href} className="nav-link" aria-current={link.matches(pathname) ? 'page' : undefined}>
                      {link.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
            <div className="account-menu">
              <span className="account-name" title={account.role === 'admin' ? 'admin' : 'learner'}>
                {account.name}
                {account.role === 'admin' && <span className="visually-hidden"> (admin)</span>}
              </span>
              <SignOutButton />
            </div>
          </>
        )}
      </div>
    </header>
  );
}
