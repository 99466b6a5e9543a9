'use client';

import { useSyncExternalStore } from 'react';

/**
 * The admin token lives in sessionStorage only: it is gone when the tab closes and never reaches
 * localStorage or a cookie, so it is sent only where we add it (the snapshots.* calls).
 */
const KEY = 'cks-lab.admin-token';
const listeners = new Set<() => void>();

export function readAdminToken(): string | null {
  if (typeof window === 'undefined') return null;
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    // Storage can be disabled (privacy settings); behave as signed out.
    return null;
  }
}

export function storeAdminToken(token: string | null): void {
  try {
    if (token) window.sessionStorage.setItem(KEY, token);
    else window.sessionStorage.removeItem(KEY);
  } catch {
    // Nothing to keep it in; the form asks again.
  }
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * The current token, null when signed out, and undefined on the server and during hydration
 * (storage is unknown there): the page can wait instead of flashing the sign-in form.
 */
export function useAdminToken(): string | null | undefined {
  return useSyncExternalStore<string | null | undefined>(subscribe, readAdminToken, () => undefined);
}
