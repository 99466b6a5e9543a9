'use client';

import { useStartSession } from '~/components/sessions/use-start-session';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';

/** In place of the terminal and the commands once a session is over: its cluster is gone, a new one is a click away. */
export function EndedSession({ failed }: { failed: boolean }) {
  const start = useStartSession();
  return (
    <Card title={failed ? 'This cluster could not be built' : 'This session is over'}>
      <p className="muted">
        {failed
          ? 'Nothing of it is left to reach.'
          : 'Its VMs and namespace are gone, and with them the terminal and the commands to reach them.'}
      </p>
      <div className="button-row">
        <Button variant="primary" busy={start.isPending || start.isSuccess} onClick={() => start.mutate()}>
          Start a new session
        </Button>
      </div>
      {start.error && (
        <p className="form-error" role="alert">
          Could not start a session: {start.error.message}
        </p>
      )}
    </Card>
  );
}
