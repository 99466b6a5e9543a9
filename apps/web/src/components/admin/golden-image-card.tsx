import type { GoldenPhase } from '@cks-lab/core';
import { GOLDEN_PHASES } from '@cks-lab/core';
import Link from 'next/link';
import { Callout } from '~/components/ui/callout';
import { Card } from '~/components/ui/card';
import { EmptyState } from '~/components/ui/empty-state';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { formatBytes, formatDateTime, parseProgress } from '~/lib/format';
import { GOLDEN_PHASE_LABELS } from '~/lib/labels';
import { GOLDEN_STATUS, phaseTone, STEP_STATUS, type StepState } from '~/lib/status';
import type { GoldenDisk, GoldenStatus } from '~/lib/trpc';

/** kubeadm certificates last a year; warn a month before the image they are baked into expires. */
const EXPIRY_WARNING_DAYS = 30;

export function GoldenImageCard({ golden }: { golden: GoldenStatus }) {
  return (
    <Card title="Golden image" actions={<StatusIndicator {...GOLDEN_STATUS[golden.status]} />}>
      {golden.status === 'none' || golden.version === null ? (
        golden.deletedVersion !== null ? (
          <EmptyState title={`Golden image v${golden.deletedVersion} was deleted`}>
            <p>
              New sessions are built from scratch by bootstrap (8–15 minutes) until a new golden image is created below from a running
              session.
            </p>
          </EmptyState>
        ) : (
          <EmptyState title="No golden image yet">
            <p>
              Create one below from a running session. New sessions then clone its two disks and are ready in 1–3 minutes instead of being
              built from scratch in 8–15.
            </p>
          </EmptyState>
        )
      ) : (
        <GoldenDetails golden={golden} />
      )}
    </Card>
  );
}

function GoldenDetails({ golden }: { golden: GoldenStatus }) {
  return (
    <>
      <dl className="facts facts-row">
        <div>
          <dt>Version</dt>
          <dd>v{golden.version}</dd>
        </div>
        <div>
          <dt>Source session</dt>
          <dd>
            {golden.sourceSessionId ? (
              <Link href={`/sessions/${golden.sourceSessionId}`} className="mono">
                {golden.sourceSessionId}
              </Link>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>Kubernetes</dt>
          <dd className="mono">{golden.k8sVersion ?? '—'}</dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDateTime(golden.createdAt)}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd>
            {formatDateTime(golden.expiresAt)}
            {golden.expiresInDays !== null && (
              <span className="muted"> ({golden.expiresInDays < 0 ? 'expired' : `in ${golden.expiresInDays} days`})</span>
            )}
          </dd>
        </div>
      </dl>
      <ExpiryWarning days={golden.expiresInDays} />
      {golden.status === 'failed' && (
        <Callout tone="danger" title="The build failed">
          <p>{golden.failureReason ?? 'No reason was recorded.'}</p>
          <p>New sessions use bootstrap. Create the image again from a running session below.</p>
        </Callout>
      )}
      {golden.status === 'building' && golden.phase && <BuildPhases phase={golden.phase} />}
      <h3 className="subheading">Disks</h3>
      <DiskTable disks={golden.disks} building={golden.status === 'building'} />
    </>
  );
}

function ExpiryWarning({ days }: { days: number | null }) {
  if (days === null || days >= EXPIRY_WARNING_DAYS) return null;
  if (days < 0) {
    return (
      <Callout tone="danger" title="Expired">
        <p>The Kubernetes certificates inside it have run out, so new sessions use bootstrap. Recreate it from a fresh running session.</p>
      </Callout>
    );
  }
  return (
    <Callout tone="warning" title={`Expires in ${days} ${days === 1 ? 'day' : 'days'}`}>
      <p>
        The Kubernetes certificates inside it run out then, and new sessions fall back to bootstrap. Recreate it from a fresh running
        session before that.
      </p>
    </Callout>
  );
}

/** The build's phases as a checklist: done, the current one, and those ahead. */
function BuildPhases({ phase }: { phase: GoldenPhase }) {
  const current = GOLDEN_PHASES.indexOf(phase);
  const phases = GOLDEN_PHASES.filter((p): p is Exclude<GoldenPhase, 'done'> => p !== 'done');
  return (
    <>
      <h3 className="subheading">Build progress</h3>
      <ol className="phase-list">
        {phases.map((p, index) => {
          const state: StepState = index < current ? 'succeeded' : index === current ? 'running' : 'waiting';
          return (
            <li key={p} className={`phase phase-${state}`} aria-current={state === 'running' ? 'step' : undefined}>
              <span>{GOLDEN_PHASE_LABELS[p]}</span>
              <StatusIndicator {...STEP_STATUS[state]} />
            </li>
          );
        })}
      </ol>
    </>
  );
}

const ROLE_LABELS: Record<string, string> = { 'control-plane': 'Control plane', worker: 'Worker' };

function DiskTable({ disks, building }: { disks: GoldenDisk[]; building: boolean }) {
  if (disks.length === 0) return <p className="muted">No disks yet: they are copied after both VMs are snapshotted.</p>;
  return (
    <table className="data-table disk-table">
      <thead>
        <tr>
          <th scope="col">Disk</th>
          <th scope="col">Phase</th>
          <th scope="col">Size</th>
        </tr>
      </thead>
      <tbody>
        {disks.map((disk) => (
          <tr key={disk.role}>
            <td>
              <span className="disk-role">{ROLE_LABELS[disk.role] ?? disk.role}</span>
              <span className="object-name">{disk.name}</span>
              {disk.cloneFallbackReason && (
                <span className="cell-note is-warning">Copied the slow way (host-assisted): {disk.cloneFallbackReason}</span>
              )}
            </td>
            <td>
              <DiskPhase disk={disk} building={building} />
            </td>
            <td className="num">{formatBytes(disk.sizeBytes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A disk the build has not copied yet is absent from the cluster; that is expected, not an error. */
function DiskPhase({ disk, building }: { disk: GoldenDisk; building: boolean }) {
  const percent = parseProgress(disk.progress);
  const copying = percent !== null && percent < 100;
  if (building && disk.phase === 'Missing') return <StatusIndicator tone="pending" label="Not copied yet" />;
  return (
    <>
      <StatusIndicator tone={phaseTone(disk.phase)} label={disk.phase} detail={copying ? (disk.progress ?? undefined) : undefined} />
      {copying && (
        <progress className="progress" max={100} value={percent} aria-label={`${ROLE_LABELS[disk.role] ?? disk.role} disk copy progress`} />
      )}
    </>
  );
}
