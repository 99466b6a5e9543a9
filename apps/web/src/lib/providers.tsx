'use client';

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { useState, type ReactNode } from 'react';
import type { AppRouter } from '~/server/trpc/root';
import { readAdminToken } from './admin-token';
import { TRPCProvider } from './trpc';

const API_URL = '/api/trpc';

/** Client errors (bad input, not found, wrong token) will not change on retry; server hiccups may. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  const status = error instanceof TRPCClientError ? (error.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
  if (status !== undefined && status < 500) return false;
  return failureCount < 2;
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
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
        false: splitLink({
          // Only the admin procedures see the token, so it never rides along with public calls.
          condition: (op) => op.path.startsWith('snapshots.'),
          true: httpBatchLink({
            url: API_URL,
            headers: () => {
              const token = readAdminToken();
              return token ? { authorization: `Bearer ${token}` } : {};
            },
          }),
          false: httpBatchLink({ url: API_URL }),
        }),
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
