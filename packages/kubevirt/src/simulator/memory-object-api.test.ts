import { TransientError } from '@cks-lab/core';
import { describe, expect, it } from 'vitest';
import type { KubeObject, WatchEvent } from '../object-api';
import { R } from '../resources';
import { MemoryObjectApi, PVC_PROTECTION_FINALIZER } from './memory-object-api';

const claim = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, namespace: 'ns' },
  spec: {},
});

async function withNamespace(): Promise<MemoryObjectApi> {
  const api = new MemoryObjectApi();
  await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
  return api;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('MemoryObjectApi watches', () => {
  // A waiter lists, then watches from the list's resourceVersion. A claim released between the two
  // calls was never seen to go, and the fallback's removal step waited out its deadline (1 run in 12).
  it('replays what changed between a list and a watch from its resourceVersion', async () => {
    const api = await withNamespace();
    await api.create(claim('root'));
    await api.delete(R.pvc, 'ns', 'root');
    const list = await api.list(R.pvc, 'ns');
    expect(list.items.map((o) => o.metadata.deletionTimestamp !== undefined)).toEqual([true]);
    await api.patch(R.pvc, 'ns', 'root', { metadata: { finalizers: [] } });
    await api.create(claim('other'));

    const events: string[] = [];
    await api.watch(
      R.pvc,
      'ns',
      { resourceVersion: list.resourceVersion },
      (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}`),
      () => undefined,
    );
    await api.create(claim('later'));
    await settle();
    expect(events).toEqual(['DELETED root', 'ADDED other', 'ADDED later']);
  });

  it('filters the replay like live events: type, namespace and labels', async () => {
    const api = await withNamespace();
    const { resourceVersion } = await api.list(R.pvc);
    await api.create({ ...claim('labelled'), metadata: { name: 'labelled', namespace: 'ns', labels: { app: 'lab' } } });
    await api.create(claim('plain'));
    const events: string[] = [];
    await api.watch(
      R.pvc,
      'ns',
      { resourceVersion, labelSelector: 'app=lab' },
      (e) => events.push(e.object.metadata.name),
      () => undefined,
    );
    await api.watch(
      R.vm,
      'ns',
      { resourceVersion },
      (e) => events.push(`vm ${e.object.metadata.name}`),
      () => undefined,
    );
    await settle();
    expect(events).toEqual(['labelled']);
  });

  it('tells a watch from before its loaded state to re-list, as the API server answers 410 Gone', async () => {
    const source = await withNamespace();
    await source.create(claim('root'));
    const restored = new MemoryObjectApi();
    restored.load(source.all());
    let closed: unknown;
    await restored.watch(
      R.pvc,
      'ns',
      { resourceVersion: '1' },
      () => undefined,
      (error) => (closed = error),
    );
    await settle();
    expect(closed).toBeInstanceOf(TransientError);
    expect(source.all().find((o) => o.metadata.name === 'root')?.metadata.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
  });
});
