'use client';

import { type FormEvent, useId, useState } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { OIDC_PROVIDER_ID, postAuth } from '~/lib/auth-client';

/** Username and password (hashed and checked by better-auth), and single sign-on when configured. */
export function SignInForm({ next, oidcName }: { next: string; oidcName: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const usernameId = useId();
  const passwordId = useId();
  const errorId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await postAuth('/sign-in/username', { username: username.trim(), password });
      // A full load, so the layout is rendered for the account that just signed in.
      window.location.assign(next);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  }

  async function singleSignOn() {
    setBusy(true);
    setError(null);
    try {
      const { url } = await postAuth<{ url: string }>('/sign-in/social', { provider: OIDC_PROVIDER_ID, callbackURL: next });
      window.location.assign(url);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setBusy(false);
    }
  }

  const described = error ? errorId : undefined;
  return (
    <>
      <div className="page-heading">
        <h1>Sign in</h1>
      </div>
      <Card className="narrow-card" description="Your lab sessions are yours: sign in to start one or to get back to it.">
        <form onSubmit={submit} className="form">
          <label htmlFor={usernameId} className="field-label">
            Username
          </label>
          <input
            id={usernameId}
            name="username"
            className="input"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            aria-describedby={described}
            aria-invalid={error ? true : undefined}
          />
          <label htmlFor={passwordId} className="field-label">
            Password
          </label>
          <input
            id={passwordId}
            name="password"
            className="input"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            aria-describedby={described}
            aria-invalid={error ? true : undefined}
          />
          {error && (
            <p id={errorId} className="form-error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <Button type="submit" variant="primary" busy={busy} disabled={!username.trim() || !password}>
              Sign in
            </Button>
            {oidcName && (
              <Button variant="secondary" onClick={() => void singleSignOn()} disabled={busy}>
                Sign in with {oidcName}
              </Button>
            )}
          </div>
          <p className="field-help">Accounts are made by an admin. Ask yours for a username and password.</p>
        </form>
      </Card>
    </>
  );
}
