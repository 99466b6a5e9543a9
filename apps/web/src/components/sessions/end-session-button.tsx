'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Button } from '~/components/ui/button';
import { ConfirmDialog } from '~/components/ui/confirm-dialog';
import { useTRPC } from '~/lib/trpc';

/** Ending deletes the learner's whole namespace, so it always asks first and names what goes. */
export function EndSessionButton({ id, namespace, size = 'normal' }: { id: string; namespace: string; size?: 'normal' | 'small' }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const end = useMutation(
    trpc.sessions.delete.mutationOptions({
      onSuccess: async () => {
        setConfirming(false);
        await Promise.all([
          queryClient.invalidateQueries({ queryKey: trpc.sessions.list.queryKey() }),
          queryClient.invalidateQueries({ queryKey: trpc.cluster.info.queryKey() }),
        ]);
      },
    }),
  );

  return (
    <>
      <Button variant="danger" size={size} onClick={() => setConfirming(true)} aria-label={`End session ${id}`}>
        End
      </Button>
      <ConfirmDialog
        open={confirming}
        title={`End session ${id}?`}
        confirmLabel="End session"
        tone="danger"
        busy={end.isPending}
        error={end.error?.message}
        onConfirm={() => end.mutate({ id })}
        onCancel={() => {
          setConfirming(false);
          end.reset();
        }}
      >
        <p>
          Both VMs and everything else in namespace <code>{namespace}</code> are deleted. Work inside the cluster is lost; this cannot be
          undone.
        </p>
      </ConfirmDialog>
    </>
  );
}
