'use client';

import { ENDABLE_SESSION_STATUSES, isSessionId, LIVE_SESSION_STATUSES, SESSION_ID_FORMAT } from '@cks-lab/core';
import { skipToken } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import Link from 'next/link';
import { useState } from 'react';
import { ModelledTimesNote } from '~/components/modelled-times-note';
import { EndSessionButton } from '~/components/sessions/end-session-button';
import { ExpiryCountdown } from '~/components/sessions/expiry-countdown';
import { ExtendButton } from '~/components/sessions/extend-button';
import { StrategyBadge } from '~/components/sessions/strategy-badge';
import { Callout } from '~/components/ui/callout';
import { Card } from '~/components/ui/card';
import { ErrorState } from '~/components/ui/error-state';
import { LoadingArea } from '~/components/ui/skeleton';
import { StatusIndicator } from '~/components/ui/status-indicator';
import { formatDateTime, formatDuration, lowerFirst } from '~/lib/format';
import { stepLabel } from '~/lib/labels';
import { SESSION_STATUS } from '~/lib/status';
import { type SessionDetail, useTRPC } from '~/lib/trpc';
import { useNow } from '~/lib/use-now';
import { ClusterAccess } from './cluster-access';
import { ClusterObjects } from './cluster-objects';
import { EndedSession } from './ended-session';
import { FallbackNotice } from './fallback-notice';
import { GoldenBuildNotice } from './golden-build-notice';
import { ReadyEstimate } from './ready-estimate';
import { SessionTerminal } from './session-terminal';
import { StepTimeline } from './step-timeline';
import { useTabTitle } from './use-tab-title';

/** Over: nothing left to reach, so no terminal and no commands. */
const OVER = new Set(['terminating', 'terminated', 'failed']);

/**
 * One session, live. Every change arrives as a tracked SSE event carrying the whole detail; on a
 * reconnect the browser sends the last event id and gets the current state at once. The latest
 * detail is kept here because the subscription clears its data when the stream ends (terminated).
 */
export function SessionDetailPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const [detail, setDetail] = useState<SessionDetail | null>(null);
  // The last connection error, kept across the link's own reconnect attempts, which clear it briefly.
  const [connectionError, setConnectionError] = useState<{ message: string } | null>(null);
  const now = useNow();
  // A malformed id in the address is answered here, without a round trip that cannot succeed.
  const wellFormed = isSessionId(id);
  const watch = useSubscription(
    trpc.sessions.watch.subscriptionOptions(wellFormed ? { id } : skipToken, {
      onData: (event) => {
        setDetail(event.data);
        setConnectionError(null);
      },
      onConnectionStateChange: (state) => {
        // The server's own error (it carries `data`) beats the browser's "Unknown error" for the closed stream that follows.
        if (state.error?.data) setConnectionError(state.error);
        else if (state.error) setConnectionError((previous) => previous ?? state.error);
      },
    }),
  );
  useTabTitle(id, detail?.status ?? null);

  if (!detail) {
    return (
      <>
        <BackLink />
        <div className="page-heading">
          <h1>
            Session <span className="mono">{id}</span>
          </h1>
        </div>
        {!wellFormed ? (
          <ErrorState title={`“${id}” is not a session id`} error={{ message: `Session ids are ${SESSION_ID_FORMAT}.` }} />
        ) : watch.status === 'error' ? (
          <ErrorState title="Could not open this session" error={watch.error} onRetry={watch.reset} />
        ) : connectionError ? (
          // The link retries by itself on errors it considers passing; say what happened meanwhile.
          <ErrorState title="Could not open this session; retrying…" error={connectionError} />
        ) : (
          <Card>
            <LoadingArea label="Connecting to the session" lines={4} />
          </Card>
        )}
      </>
    );
  }

  const ended = detail.status === 'terminated';
  const over = OVER.has(detail.status);
  const connection = ended ? null : watch.status === 'pending' ? 'live' : watch.status === 'error' ? 'lost' : 'reconnecting';
  return (
    <>
      <BackLink />
      <div className="page-heading">
        <h1>
          Session <span className="mono">{detail.id}</span>
        </h1>
        <StatusIndicator {...SESSION_STATUS[detail.status]} size="large" />
        {connection && <ConnectionState state={connection} />}
      </div>
      <SessionSummary detail={detail} />
      <FallbackNotice {...detail} />
      <GoldenBuildNotice build={detail.haltedByGoldenBuild} />
      {/* The terminal is what the learner came for: first, once there is one. */}
      {over ? (
        (ended || detail.status === 'failed') && <EndedSession failed={detail.status === 'failed'} />
      ) : (
        <Card title="Terminal" description="A root shell on the lab's machines.">
          <SessionTerminal detail={detail} />
        </Card>
      )}
      <div className="detail-grid">
        <Card title="Progress">
          {/* An ended session shows fixed durations; nothing ticks. */}
          <StepTimeline detail={detail} now={ended ? null : now} rate={detail.timing.rate} />
        </Card>
        <Card title="Cluster objects" description={`What exists in namespace ${detail.namespace} right now.`}>
          <ClusterObjects objects={detail.objects} ended={ended} />
        </Card>
      </div>
      {!over && (
        <Card title="Reaching the cluster">
          <ClusterAccess {...detail} />
        </Card>
      )}
    </>
  );
}

function BackLink() {
  return (
    <p className="back-link">
      <Link href="/">← All sessions</Link>
    </p>
  );
}

const CONNECTION_TEXT = { live: 'Live', reconnecting: 'Reconnecting…', lost: 'Connection lost' } as const;

function ConnectionState({ state }: { state: keyof typeof CONNECTION_TEXT }) {
  return (
    <span className={`connection connection-${state}`}>
      <span className="connection-dot" aria-hidden="true" />
      {CONNECTION_TEXT[state]}
    </span>
  );
}

/** One sentence on where the session stands and what to do next, plus the facts and actions. */
function SessionSummary({ detail }: { detail: SessionDetail }) {
  const now = useNow();
  const current = detail.steps.find((step) => step.status === 'running');

  return (
    <Card>
      <div className="summary-top">
        <p className="headline" aria-live="polite">
          {headline(detail, current ? stepLabel(current.name) : null)}
        </p>
        <div className="button-row">
          {LIVE_SESSION_STATUSES.includes(detail.status) && <ExtendButton id={detail.id} expiresAt={detail.expiresAt} />}
          {ENDABLE_SESSION_STATUSES.includes(detail.status) && <EndSessionButton id={detail.id} namespace={detail.namespace} />}
        </div>
      </div>
      {detail.estimate && detail.startedAt !== null && (
        <ReadyEstimate estimate={detail.estimate} startedAt={detail.startedAt} now={now} simulated={detail.simulated} />
      )}
      {detail.status === 'failed' && detail.failureReason && (
        <Callout tone="danger" title="Provisioning failed">
          <p>{detail.failureReason}</p>
          <p>Its resources are removed automatically.</p>
        </Callout>
      )}
      <dl className="facts facts-row">
        <div>
          <dt>Strategy</dt>
          <dd>
            <StrategyBadge strategy={detail.strategy} />
          </dd>
        </div>
        <div>
          <dt>Time to ready</dt>
          <dd className="num">{formatDuration(detail.timeToReadyMs)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDateTime(detail.createdAt)}</dd>
        </div>
        <div>
          <dt>Expires in</dt>
          <dd>{LIVE_SESSION_STATUSES.includes(detail.status) ? <ExpiryCountdown expiresAt={detail.expiresAt} /> : '—'}</dd>
        </div>
        {detail.goldenVersion !== null && (
          <div>
            <dt>Golden image</dt>
            <dd>v{detail.goldenVersion}</dd>
          </div>
        )}
      </dl>
      <ModelledTimesNote timing={detail.timing} />
    </Card>
  );
}

function headline(detail: SessionDetail, currentStep: string | null): string {
  switch (detail.status) {
    case 'pending':
      return 'Waiting to start provisioning…';
    case 'provisioning':
      return `Building your cluster by ${detail.strategy ?? 'the chosen strategy'}${currentStep ? ` — now: ${lowerFirst(currentStep)}` : ''}.`;
    case 'running':
      return `Your cluster is ready${detail.timeToReadyMs !== null ? ` (took ${formatDuration(detail.timeToReadyMs)} by ${detail.strategy})` : ''}. Reach it with the commands below.`;
    case 'terminating':
      return 'Ending: the namespace and both VMs are being deleted.';
    case 'terminated':
      return 'This session has ended and its cluster is gone.';
    case 'failed':
      return 'The cluster could not be built.';
  }
}
