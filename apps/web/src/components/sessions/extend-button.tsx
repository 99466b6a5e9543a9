'use client';

import { extensionRoom } from '@cks-lab/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Button } from '~/components/ui/button';
import { useTRPC } from '~/lib/trpc';
import { useNow } from '~/lib/use-now';

/**
 * Extends a session by one TTL. At the cap (core/extension.ts) the button is off and says why and
 * when it works again, rather than letting a click do nothing.
 */
export function ExtendButton({ id, expiresAt }: { id: string; expiresAt: number }) {
  const trpc = useTRPC();
  const extend = useMutation(trpc.sessions.extend.mutationOptions());
  const ttlMinutes = useQuery(trpc.cluster.info.queryOptions()).data?.sessionTtlMinutes;
  const now = useNow();
  const room = ttlMinutes !== undefined && now !== null ? extensionRoom(expiresAt, now, ttlMinutes * 60_000) : null;
  const atCap = room !== null && !room.allowed;
  const reasonId = `extend-limit-${id}`;

  return (
    <span className="extend">
      <Button
        onClick={() => extend.mutate({ id })}
        busy={extend.isPending}
        disabled={atCap}
        aria-describedby={atCap ? reasonId : undefined}
      >
        {ttlMinutes ? `Extend +${ttlMinutes} min` : 'Extend'}
      </Button>
      {atCap && (
        <span id={reasonId} className="extend-limit muted small">
          Extended to the limit: a session runs at most {Math.round(room.capMs / 60_000)} min ahead. You can extend again in{' '}
          {Math.ceil(room.waitMs / 60_000)} min.
        </span>
      )}
      {extend.error && (
        <span className="form-error" role="alert">
          Could not extend: {extend.error.message}
        </span>
      )}
    </span>
  );
}
