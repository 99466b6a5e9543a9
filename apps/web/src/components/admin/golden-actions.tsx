'use client';

import { isSessionId, SESSION_ID_FORMAT } from '@cks-lab/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Button } from '~/components/ui/button';
import { Card } from '~/components/ui/card';
import { ConfirmDialog } from '~/components/ui/confirm-dialog';
import { Skeleton } from '~/components/ui/skeleton';
import { formatDateTime, formatDuration } from '~/lib/format';
import { type GoldenStatus, type SessionSummary, useTRPC } from '~/lib/trpc';
import { useNow } from '~/lib/use-now';

type Pending = { action: 'create' | 'recreate'; sessionId: string } | { action: 'delete' } | null;
const OTHER = 'other';

/**
 * Create, recreate and delete. Each goes through a confirmation that says what happens to the
 * source session and to new sessions; a refused action keeps its dialog open with the server's reason.
 */
export function GoldenActions({ golden }: { golden: GoldenStatus }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [choice, setChoice] = useState<string>('');
  const [typedId, setTypedId] = useState('');
  const [pending, setPending] = useState<Pending>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const running = useQuery(
    trpc.sessions.list.queryOptions({ includeEnded: false }, { select: (list) => list.filter((s) => s.status === 'running' && !s.pool) }),
  );
  const now = useNow();
  const typedInputId = useId();
  const errorId = useId();

  const onDone = {
    onSuccess: (next: GoldenStatus) => {
      // The answer is the new status; showing it at once starts the build's progress display.
      queryClient.setQueryData(trpc.snapshots.status.queryKey(), next);
      setPending(null);
    },
  };
  const create = useMutation(trpc.snapshots.create.mutationOptions(onDone));
  const recreate = useMutation(trpc.snapshots.recreate.mutationOptions(onDone));
  const remove = useMutation(trpc.snapshots.delete.mutationOptions(onDone));
  const busyMutation = pending?.action === 'create' ? create : pending?.action === 'recreate' ? recreate : remove;

  const busy = golden.status === 'building' || golden.status === 'deleting';
  const replacing = golden.status === 'ready';
  const sessionId = choice === OTHER ? typedId.trim() : choice;

  function requestBuild() {
    if (!sessionId) return setFormError('Choose a running session or type a session id.');
    if (!isSessionId(sessionId)) return setFormError(`A session id is ${SESSION_ID_FORMAT}.`);
    setFormError(null);
    setPending({ action: replacing ? 'recreate' : 'create', sessionId });
  }

  function cancel() {
    setPending(null);
    create.reset();
    recreate.reset();
    remove.reset();
  }

  return (
    <Card
      title={replacing ? 'Replace or delete the golden image' : 'Create the golden image'}
      description="The golden image is a snapshot of a running session’s two VMs. Pick a session whose cluster is healthy and freshly set up."
    >
      {busy && (
        <p className="muted" role="status">
          {golden.status === 'building'
            ? 'A build is in progress; actions are available again when it ends.'
            : 'The golden image is being deleted.'}
        </p>
      )}
      <fieldset className="fieldset" disabled={busy}>
        <legend className="field-label">Source session</legend>
        {running.isPending ? (
          <Skeleton height="2.5rem" />
        ) : running.data && running.data.length > 0 ? (
          <ul className="choice-list">
            {running.data.map((session) => (
              <li key={session.id}>
                <label className="choice">
                  <input
                    type="radio"
                    name="source-session"
                    value={session.id}
                    checked={choice === session.id}
                    onChange={() => setChoice(session.id)}
                  />
                  <span className="mono">{session.id}</span>
                  <SourceFacts session={session} now={now} />
                </label>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted small">No session is running right now. Start one on the Sessions page, or type an id below.</p>
        )}
        <label className="choice">
          <input type="radio" name="source-session" value={OTHER} checked={choice === OTHER} onChange={() => setChoice(OTHER)} />
          <span>Another session id</span>
        </label>
        {choice === OTHER && (
          <div className="indented">
            <label htmlFor={typedInputId} className="visually-hidden">
              Session id
            </label>
            <input
              id={typedInputId}
              className="input mono"
              placeholder="76c3ac1b"
              value={typedId}
              maxLength={8}
              autoComplete="off"
              spellCheck={false}
              onChange={(event) => setTypedId(event.target.value)}
              aria-invalid={formError ? true : undefined}
              aria-describedby={formError ? errorId : undefined}
            />
          </div>
        )}
        {formError && (
          <p id={errorId} className="form-error" role="alert">
            {formError}
          </p>
        )}
        <div className="button-row">
          <Button variant="primary" onClick={requestBuild}>
            {replacing ? 'Recreate from this session' : 'Create golden image'}
          </Button>
        </div>
      </fieldset>
      {replacing && (
        <div className="danger-zone">
          <p className="muted small">Deleting it sends every new session back to bootstrap until a new golden image is created.</p>
          <Button variant="danger" onClick={() => setPending({ action: 'delete' })}>
            Delete golden image
          </Button>
        </div>
      )}

      <ConfirmDialog
        open={pending !== null}
        title={confirmTitle(pending, golden)}
        confirmLabel={pending?.action === 'delete' ? 'Delete' : pending?.action === 'recreate' ? 'Recreate' : 'Create'}
        tone={pending?.action === 'delete' ? 'danger' : 'primary'}
        busy={busyMutation.isPending}
        error={busyMutation.error?.message}
        onCancel={cancel}
        onConfirm={() => {
          if (pending?.action === 'delete') remove.mutate();
          else if (pending?.action === 'create') create.mutate({ sessionId: pending.sessionId });
          else if (pending?.action === 'recreate') recreate.mutate({ sessionId: pending.sessionId });
        }}
      >
        {pending?.action === 'delete' ? (
          <p>New sessions fall back to bootstrap (8–15 minutes) until a new golden image is created. Running sessions are not affected.</p>
        ) : (
          <>
            <p>
              Both VMs of session <code>{pending?.action ? pending.sessionId : ''}</code> are halted while they are snapshotted, then
              started again; the learner’s cluster keeps its state but is unreachable for a short while.
            </p>
            {pending?.action === 'recreate' && (
              <p>New sessions keep using v{golden.version} until both new disks are copied, then switch to the new version together.</p>
            )}
          </>
        )}
      </ConfirmDialog>
    </Card>
  );
}

/**
 * Whose it is (a learner's VMs halt while they are snapshotted) and how long it has run: the
 * learner's own time since the start, not a provisioning duration, so never modelled.
 */
function SourceFacts({ session, now }: { session: SessionSummary; now: number | null }) {
  return (
    <span className="muted small">
      {session.owner ? (
        <>
          learner <strong>{session.owner.name}</strong>
        </>
      ) : (
        'no learner (started by a tool)'
      )}
      , {session.strategy ?? 'unknown strategy'},{' '}
      {now === null ? `started ${formatDateTime(session.createdAt)}` : `running for ${formatDuration(now - session.createdAt)}`}
    </span>
  );
}

function confirmTitle(pending: Pending, golden: GoldenStatus): string {
  if (!pending) return '';
  if (pending.action === 'delete') return `Delete golden image v${golden.version}?`;
  if (pending.action === 'recreate') return `Replace golden image v${golden.version} with one from session ${pending.sessionId}?`;
  return `Create the golden image from session ${pending.sessionId}?`;
}
