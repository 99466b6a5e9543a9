'use client';

import { useQuery } from '@tanstack/react-query';
import { formatTimeScale } from '~/lib/format';
import { useTRPC } from '~/lib/trpc';

/**
 * Says plainly when nothing real runs (design §8: the simulator is honest), and when the cluster
 * cannot use the snapshot strategy. The slot keeps its height while loading so pages do not jump.
 */
export function ClusterBanner() {
  const trpc = useTRPC();
  const info = useQuery(trpc.cluster.info.queryOptions());
  if (info.isPending) return <div className="banner-slot" aria-hidden="true" />;
  if (!info.data) return null;
  const { simulation, preflight } = info.data;
  return (
    <>
      {simulation && (
        <div className="banner banner-simulated" role="note" aria-label="Simulated cluster">
          <div className="banner-inner">
            <strong>Simulated cluster</strong> — no VMs run; {formatTimeScale(simulation.timeScale)}; faults:{' '}
            {simulation.faults.length > 0 ? simulation.faults.join(', ') : 'none'}
          </div>
        </div>
      )}
      {!preflight.snapshotSupported && (
        <div className="banner banner-warning" role="note" aria-label="Snapshot strategy unavailable">
          <div className="banner-inner">
            <strong>Snapshots unavailable</strong> — every session is built from scratch (bootstrap).{' '}
            {preflight.snapshotUnsupportedReason}
          </div>
        </div>
      )}
    </>
  );
}
