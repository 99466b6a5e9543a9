import { ClusterFailure, DeadlineError } from '@cks-lab/core';
import { Informer } from './informer';
import type { KubeObject, ObjectApi } from './object-api';
import type { ResourceType } from './resources';

/** What a wait sees each time its objects change: keep waiting, done, or a failure the cluster reports. */
export type WaitVerdict = { done: true } | { done: false; failure?: string; waitingFor: string };

export interface WaitOptions<T extends KubeObject> {
  api: ObjectApi;
  type: ResourceType;
  namespace?: string;
  labelSelector?: string;
  evaluate: (objects: ReadonlyMap<string, T>) => WaitVerdict;
  deadlineAt: number;
  signal?: AbortSignal;
  label: string;
}

/** A watch with a deadline (docs/architecture.md#resumable-steps-and-deadlines): resolves when `evaluate` says done, never sleeps in a loop. */
export function waitFor<T extends KubeObject>(options: WaitOptions<T>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let last = 'nothing observed yet';
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      informer.stop();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    const informer = new Informer<T>({
      api: options.api,
      type: options.type,
      namespace: options.namespace,
      labelSelector: options.labelSelector,
      onChange: (objects) => {
        const verdict = options.evaluate(objects);
        if (verdict.done) return finish();
        last = verdict.waitingFor;
        if (verdict.failure) finish(new ClusterFailure(`${options.label}: ${verdict.failure}`));
      },
      onError: (error) => {
        last = `${last} (watch interrupted: ${error instanceof Error ? error.message : String(error)})`;
      },
    });
    const onAbort = () => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => finish(new DeadlineError(`${options.label}: deadline passed, still waiting for ${last}`)),
      Math.max(0, options.deadlineAt - Date.now()),
    );
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    informer.start();
  });
}
