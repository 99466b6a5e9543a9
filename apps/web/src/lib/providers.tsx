'use client';

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { type ReactNode, useState } from 'react';
import type { AppRouter } from '~/server/trpc/root';
import { TRPCProvider } from './trpc';

const API_URL = '/api/trpc';
/** The server refuses larger batches (app/api/trpc). */
const MAX_BATCH_SIZE = 10;

const statusOf = (error: unknown) =>
  error instanceof TRPCClientError ? (error.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;

/** Client errors (bad input, not found, not allowed) will not change on retry; server hiccups may. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined && status < 500) return false;
  return failureCount < 2;
}

/** A sign-in that ended (signed out in another tab, disabled, expired) sends the page to sign in again. */
function onError(error: unknown): void {
  if (statusOf(error) === 401 && window.location.pathname !== '/sign-in')
    window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname + window.location.search)}`);
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: { staleTime: 5_000, retry: shouldRetry },
    },
  });
}

function makeTrpcClient() {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        // Live session progress over SSE; EventSource resends the last tracked id on reconnect.
        true: httpSubscriptionLink({ url: API_URL }),
        // The sign-in cookie goes along with every call (same origin).
        false: httpBatchLink({ url: API_URL, maxItems: MAX_BATCH_SIZE }),
      }),
    ],
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(makeTrpcClient);
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
