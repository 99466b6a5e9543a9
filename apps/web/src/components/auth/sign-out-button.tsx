'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { postAuth } from '~/lib/auth-client';

/** Ends the sign-in on the server, drops everything cached for the account, and goes to the sign-in page. */
export function SignOutButton() {
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="nav-link nav-button"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        await postAuth('/sign-out', {}).catch(() => undefined);
        queryClient.clear();
        // A full load: the layout is rendered again for nobody.
        window.location.assign('/sign-in');
      }}
    >
      Sign out
    </button>
  );
}
