/**
 * The node stand-ins' one control loop: list a collection on an interval and hand every item to a
 * level-triggered reconcile function, as a node agent's informer would (a re-list every 200 ms is
 * cheap at test scale and never misses an event the way a dropped watch could).
 */
import type { KubeResponse, RequestOptions } from '../cluster';

/** `TestCluster.request`, or the same bound to a ServiceAccount's token. */
export type Requester = <T = any>(method: string, urlPath: string, body?: unknown, opts?: RequestOptions) => Promise<KubeResponse<T>>;

export interface ReconcileLoop {
  /** Resolves when the loop has stopped (an in-flight pass finishes first). */
  stop(): Promise<void>;
  /** Errors of the last pass, for diagnostics. */
  readonly lastErrors: readonly string[];
}

export function reconcileLoop<T extends { metadata: { name: string; namespace?: string } }>(
  request: Requester,
  listPath: string,
  reconcile: (item: T) => Promise<void>,
  intervalMs = 200,
): ReconcileLoop {
  let stopped = false;
  let lastErrors: string[] = [];
  const done = (async () => {
    while (!stopped) {
      const errors: string[] = [];
      try {
        const list = await request<{ items: T[] }>('GET', listPath, undefined, { timeoutMs: 10_000 });
        if (list.ok) {
          for (const item of list.body.items) {
            if (stopped) break;
            await reconcile(item).catch((e: Error) => errors.push(`${item.metadata.namespace ?? ''}/${item.metadata.name}: ${e.message}`));
          }
        } else if (list.status !== 404) {
          errors.push(`list ${listPath} -> ${list.status}`);
        }
      } catch (e) {
        // The API server may be down on purpose (a test kills it): keep trying until stopped.
        errors.push((e as Error).message);
      }
      lastErrors = errors;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
    get lastErrors() {
      return lastErrors;
    },
  };
}

/** Throws with the response text unless the request succeeded (or, with `allow`, failed with one of those codes). */
export async function expectOk(
  response: Promise<{ ok: boolean; status: number; text: string }>,
  what: string,
  allow: number[] = [],
): Promise<void> {
  const r = await response;
  if (!r.ok && !allow.includes(r.status)) throw new Error(`${what} -> ${r.status}: ${r.text.slice(0, 400)}`);
}
