import { tracked } from '@trpc/server';
import { z } from 'zod';
import { sessionId } from '../inputs';
import { asTRPCError, publicProcedure, router } from '../init';
import { sessionView, sessionDetailView } from '../views';

export const sessionsRouter = router({
  create: publicProcedure.mutation(async ({ ctx }) => sessionView(await ctx.runtime.lab.createSession(), ctx.runtime)),

  list: publicProcedure
    .input(z.object({ includeEnded: z.boolean().default(false) }).default({ includeEnded: false }))
    .query(async ({ ctx, input }) =>
      (await ctx.runtime.lab.listSessionSummaries(input)).map(({ session, timeToReadyMs }) => ({ ...sessionView(session, ctx.runtime), timeToReadyMs })),
    ),

  get: publicProcedure
    .input(z.object({ id: sessionId }))
    .query(({ ctx, input }) => sessionDetailView(ctx.runtime, input.id)),

  delete: publicProcedure
    .input(z.object({ id: sessionId }))
    .mutation(async ({ ctx, input }) => sessionView(await ctx.runtime.lab.deleteSession(input.id), ctx.runtime)),

  extend: publicProcedure
    .input(z.object({ id: sessionId }))
    .mutation(async ({ ctx, input }) => sessionView(await ctx.runtime.lab.extendSession(input.id), ctx.runtime)),

  /**
   * Live progress over SSE. Each event is the whole session detail, tracked by a change counter: a
   * reconnect (Last-Event-ID) immediately gets the current state, so nothing is missed.
   */
  watch: publicProcedure
    .input(z.object({ id: sessionId, lastEventId: z.string().nullish() }))
    .subscription(async function* ({ ctx, input, signal }) {
      const { lab } = ctx.runtime;
      // Thrown inside the generator, past the error middleware: map it here, so an unknown session is NOT_FOUND, not retried.
      await lab.getSession(input.id).catch((error: unknown) => {
        throw asTRPCError(error);
      });
      let changes = 0;
      let wake: () => void = () => {};
      const unsubscribe = lab.events.subscribe((event) => {
        if (event.type === 'session' && event.sessionId === input.id) {
          changes++;
          wake();
        }
      });
      signal?.addEventListener('abort', () => wake(), { once: true });
      try {
        let sent = -1;
        while (!signal?.aborted) {
          if (sent === changes) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          sent = changes;
          const detail = await sessionDetailView(ctx.runtime, input.id);
          yield tracked(`${Date.now()}-${sent}`, detail);
          if (detail.status === 'terminated') return;
        }
      } finally {
        unsubscribe();
      }
    }),
});
