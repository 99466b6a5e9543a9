import type { ReactNode } from 'react';

type CalloutTone = 'info' | 'warning' | 'danger';

const ICONS: Record<CalloutTone, string> = { info: 'i', warning: '!', danger: '✕' };

/** A highlighted message inside a page: fallbacks, expiry warnings, failures. */
export function Callout({ tone, title, children }: { tone: CalloutTone; title: ReactNode; children?: ReactNode }) {
  return (
    <div className={`callout callout-${tone}`}>
      <span className="callout-icon" aria-hidden="true">
        {ICONS[tone]}
      </span>
      <div className="callout-content">
        <p className="callout-title">{title}</p>
        {children && <div className="callout-body">{children}</div>}
      </div>
    </div>
  );
}
