import type { ComponentPropsWithRef } from 'react';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

interface ButtonProps extends ComponentPropsWithRef<'button'> {
  variant?: ButtonVariant;
  /** Shows a spinner and blocks clicks while an action is in flight, without changing the width much. */
  busy?: boolean;
  size?: 'normal' | 'small';
}

export function buttonClassName(variant: ButtonVariant = 'secondary', size: 'normal' | 'small' = 'normal', extra?: string): string {
  return ['btn', `btn-${variant}`, size === 'small' ? 'btn-small' : '', extra ?? ''].filter(Boolean).join(' ');
}

export function Button({
  variant = 'secondary',
  busy = false,
  size = 'normal',
  className,
  disabled,
  children,
  type = 'button',
  ...rest
}: ButtonProps) {
  return (
    <button
      type={type}
      className={buttonClassName(variant, size, className)}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy && <span className="spinner" aria-hidden="true" />}
      {children}
    </button>
  );
}
