import { type ReactNode, useId } from 'react';

interface CardProps {
  title?: ReactNode;
  /** Buttons or links shown on the title row. */
  actions?: ReactNode;
  /** Short explanation under the title. */
  description?: ReactNode;
  children?: ReactNode;
  className?: string;
  headingLevel?: 2 | 3;
}

/** A titled section; the heading labels the region so screen-reader users can jump between cards. */
export function Card({ title, actions, description, children, className, headingLevel = 2 }: CardProps) {
  const headingId = useId();
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  return (
    <section className={['card', className].filter(Boolean).join(' ')} aria-labelledby={title ? headingId : undefined}>
      {(title || actions) && (
        <header className="card-header">
          {title && (
            <Heading id={headingId} className="card-title">
              {title}
            </Heading>
          )}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {description && <p className="card-description">{description}</p>}
      {children}
    </section>
  );
}
