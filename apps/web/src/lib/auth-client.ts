/** The provider id of the configured OIDC issuer (its callback is /api/auth/callback/oidc). */
export const OIDC_PROVIDER_ID = 'oidc';

/**
 * The few better-auth endpoints the pages use, called with fetch and a JSON body (the server
 * refuses anything else); its own client library would add a bundle for three calls.
 */
export async function postAuth<T = unknown>(path: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(`/api/auth${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const data = (await response.json().catch(() => ({}))) as { message?: string; error?: { message?: string } };
  if (!response.ok) throw new Error(data.message ?? data.error?.message ?? `HTTP ${response.status}`);
  return data as T;
}
