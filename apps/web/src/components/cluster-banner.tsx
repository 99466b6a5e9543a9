'use client';

import { useQuery } from '@tanstack/react-query';
import { formatTimeScale } from '~/lib/format';
import { useTRPC } from '~/lib/trpc';

type Simulation = { timeScale: number; faults: string[] } | null;

/**
 * Says plainly when nothing real runs (docs/architecture.md#simulator) — rendered on the
 * server with the page, so it is there before any script runs — and when the cluster cannot use
 * the snapshot strategy (from the live preflight).
 */
export function ClusterBanner({ simulation, signedIn }: { simulation: Simulation; signedIn: boolean }) {
  const trpc = useTRPC();
  // The preflight is for signed-in accounts; the sign-in page shows only whether it is simulated.
  const info = useQuery(trpc.cluster.info.queryOptions(undefined, { enabled: signedIn }));
  const preflight = info.data?.preflight ?? { snapshotSupported: true, snapshotUnsupportedReason: null };
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
            <strong>Snapshots unavailable</strong> — every session is built from scratch (bootstrap). {preflight.snapshotUnsupportedReason}
          </div>
        </div>
      )}
    </>
  );
}
