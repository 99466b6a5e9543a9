'use client';

import { useId, useState, type FormEvent } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';

/** Asks for the admin token; the page keeps it in sessionStorage (this tab only). */
export function AdminSignIn({ error, onSubmit }: { error: string | null; onSubmit: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [shown, setShown] = useState(false);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  function submit(event: FormEvent) {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed) onSubmit(trimmed);
  }

  return (
    <Card title="Admin sign-in" className="narrow-card">
      <form onSubmit={submit} className="form">
        <label htmlFor={inputId} className="field-label">
          Admin token
        </label>
        <div className="input-row">
          <input
            id={inputId}
            name="admin-token"
            className="input mono"
            type={shown ? 'text' : 'password'}
            autoComplete="off"
            spellCheck={false}
            required
            value={token}
            onChange={(event) => setToken(event.target.value)}
            aria-describedby={error ? `${errorId} ${helpId}` : helpId}
            aria-invalid={error ? true : undefined}
          />
          <Button size="small" variant="ghost" onClick={() => setShown(!shown)} aria-pressed={shown}>
            {shown ? 'Hide' : 'Show'}
          </Button>
        </div>
        {error && (
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
        )}
        <p id={helpId} className="field-help">
          The server prints it at its first start and keeps it in <code>data/admin-token</code> (or takes it from{' '}
          <code>ADMIN_TOKEN</code>). It stays in this browser tab only and is forgotten when the tab closes.
        </p>
        <div>
          <Button type="submit" variant="primary" disabled={!token.trim()}>
            Continue
          </Button>
        </div>
      </form>
    </Card>
  );
}
