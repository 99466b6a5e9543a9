'use client';

import { useEffect, useState } from 'react';
import { Button } from './button';

type CopyState = 'idle' | 'copied' | 'failed';

/** Copies a command; says so in words (announced politely) and admits when the browser refuses. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<CopyState>('idle');

  useEffect(() => {
    if (state === 'idle') return;
    const reset = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(reset);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      // Clipboard access needs a secure context and permission; the text stays selectable.
      setState('failed');
    }
  }

  return (
    <Button size="small" variant="ghost" onClick={() => void copy()} aria-label={`Copy ${label}`}>
      <span aria-live="polite">{state === 'copied' ? 'Copied' : state === 'failed' ? 'Select to copy' : 'Copy'}</span>
    </Button>
  );
}
