'use client';

import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { Skeleton } from '~/components/ui/skeleton';
import type { ClusterInfo } from '~/lib/trpc';
import { useStartSession } from './use-start-session';

/** Starting a session takes the learner straight to its live progress page. */
export function StartSession({ info }: { info: ClusterInfo | undefined }) {
  const create = useStartSession();
  const full = info !== undefined && info.activeSessions >= info.maxConcurrentSessions;

  return (
    <Card
      title="Start a lab"
      description="You get your own two-node Kubernetes cluster — a control plane and a worker, both VMs — to practise for the CKS exam."
    >
      <div className="start-row">
        <Button
          variant="primary"
          disabled={info === undefined || full}
          // Stay busy through the navigation that follows success, so there is no second click.
          busy={create.isPending || create.isSuccess}
          onClick={() => create.mutate()}
          aria-describedby="session-capacity"
        >
          {full ? 'Session limit reached' : 'Start a session'}
        </Button>
        <p id="session-capacity" className={full ? 'capacity capacity-full' : 'capacity'}>
          {info === undefined ? (
            <Skeleton width="16rem" />
          ) : full ? (
            <>
              {info.maxConcurrentSessions === 1 ? 'The only session slot is' : `All ${info.maxConcurrentSessions} session slots are`} in
              use. End a session below or wait for one to expire.
            </>
          ) : (
            <>
              {info.activeSessions} of {info.maxConcurrentSessions} sessions in use · each lasts {info.sessionTtlMinutes} min and can be
              extended
            </>
          )}
        </p>
      </div>
      {create.error && (
        <p className="form-error" role="alert">
          Could not start a session: {create.error.message}
        </p>
      )}
    </Card>
  );
}
