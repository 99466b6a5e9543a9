'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useTRPC } from '~/lib/trpc';

/** Starts a session (or resumes the learner's running one) and goes to its page. */
export function useStartSession() {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.sessions.create.mutationOptions({
      onSuccess: async (session) => {
        await queryClient.invalidateQueries({ queryKey: trpc.sessions.pathKey() });
        await queryClient.invalidateQueries({ queryKey: trpc.cluster.info.queryKey() });
        router.push(`/sessions/${session.id}`);
      },
    }),
  );
}
