import type { StatusDisplay, Tone } from '~/lib/status';

/** A symbol per tone, so the state reads without colour (WCAG 1.4.1); the label carries the meaning. */
const SYMBOLS: Record<Tone, string> = {
  success: '✓',
  progress: '',
  pending: '',
  danger: '✕',
  neutral: '',
};

interface StatusIndicatorProps extends StatusDisplay {
  /** Extra words after the label, e.g. progress "45%". */
  detail?: string;
  size?: 'normal' | 'large';
}

export function StatusIndicator({ tone, label, detail, size = 'normal' }: StatusIndicatorProps) {
  return (
    <span className={`status status-${tone}${size === 'large' ? ' status-large' : ''}`} data-tone={tone}>
      <span className="status-symbol" aria-hidden="true">
        {SYMBOLS[tone]}
      </span>
      <span className="status-label">{label}</span>
      {detail && <span className="status-detail">{detail}</span>}
    </span>
  );
}
