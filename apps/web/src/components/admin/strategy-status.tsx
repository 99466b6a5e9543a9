import { StrategyBadge } from '~/components/sessions/strategy-badge';
import { Card } from '~/components/ui/card';
import { lowerFirst } from '~/lib/format';
import type { GoldenStatus } from '~/lib/trpc';

/** Which strategy the next session gets, and why — the question an admin comes here with. */
export function StrategyStatus({ golden }: { golden: GoldenStatus }) {
  const { activeStrategy, reasonText, reasonDetail } = golden;
  return (
    <Card title="Strategy for new sessions">
      <div className="strategy-status">
        <StrategyBadge strategy={activeStrategy} />
        <p>
          {activeStrategy === 'snapshot'
            ? 'New sessions clone their disks from the active golden image and are ready in about 1–3 minutes.'
            : `New sessions are built from scratch with kubeadm (8–15 minutes)${reasonText ? ` because ${lowerFirst(reasonText)}` : ''}.`}
        </p>
      </div>
      {reasonDetail && <p className="muted small">{reasonDetail}</p>}
    </Card>
  );
}
