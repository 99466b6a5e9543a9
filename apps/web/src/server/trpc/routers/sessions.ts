import type { ClusterObjectSummary } from '@cks-lab/core';
import { TRPCError, tracked } from '@trpc/server';
import { z } from 'zod';
import { asTRPCError, router, signedInProcedure } from '../init';
import { sessionId } from '../inputs';
import { sessionDetailView, sessionListView, sessionView } from '../views';

/** Learners are limited in how often they start; admins and internal tools only by the session limits. */
const startRateLimited = signedInProcedure.use(({ ctx, next }) => {
  if (ctx.actor.role === 'learner') {
    const taken = ctx.runtime.sessionStarts.take(ctx.actor.userId);
    if (!taken.ok) {
      const minutes = Math.ceil(taken.retryAfterMs / 60_000);
      throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `too many session starts; try again in ${minutes} min` });
    }
  }
  return next();
});

/** Every procedure acts as the caller: a learner reaches only their own sessions (core/sessions.ts). */
export const sessionsRouter = router({
  /** Starts a session, or answers with the learner's running one (`resumed`) when they are at their limit. */
  create: startRateLimited.mutation(async ({ ctx }) => {
    const { session, resumed } = await ctx.runtime.lab.startSession(ctx.actor);
    return { ...(await sessionView(session, ctx.runtime)), resumed };
  }),

  list: signedInProcedure
    .input(z.object({ includeEnded: z.boolean().default(false) }).default({ includeEnded: false }))
    .query(async ({ ctx, input }) => sessionListView(await ctx.runtime.lab.listSessionSummaries(input, ctx.actor), ctx.runtime)),

  get: signedInProcedure.input(z.object({ id: sessionId })).query(({ ctx, input }) => sessionDetailView(ctx.runtime, input.id, ctx.actor)),

  delete: signedInProcedure
    .input(z.object({ id: sessionId }))
    .mutation(async ({ ctx, input }) => sessionView(await ctx.runtime.lab.deleteSession(input.id, ctx.actor), ctx.runtime)),

  extend: signedInProcedure
    .input(z.object({ id: sessionId }))
    .mutation(async ({ ctx, input }) => sessionView(await ctx.runtime.lab.extendSession(input.id, ctx.actor), ctx.runtime)),

  /**
   * Live progress over SSE. Each event is the whole session detail, tracked by a change counter: a
   * reconnect (Last-Event-ID) immediately gets the current state, so nothing is missed. Changes are
   * the session's own, golden builds' (one may halt this session), and the cluster's: a watch on the
   * session namespace, stopped with the subscription.
   */
  watch: signedInProcedure.input(z.object({ id: sessionId, lastEventId: z.string().nullish() })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const { lab } = ctx.runtime;
    let changes = 0;
    let wake: () => void = () => {};
    const changed = () => {
      changes++;
      wake();
    };
    let objects: ClusterObjectSummary[] | undefined;
    // Thrown inside the generator, past the error middleware: map it here, so an unknown session is NOT_FOUND, not retried.
    const stopObjects = await lab
      .watchSessionObjects(input.id, ctx.actor, (current) => {
        objects = current;
        changed();
      })
      .catch((error: unknown) => {
        throw asTRPCError(error);
      });
    const unsubscribe = lab.events.subscribe((event) => {
      if ((event.type === 'session' && event.sessionId === input.id) || event.type === 'golden') changed();
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
        const detail = await sessionDetailView(ctx.runtime, input.id, ctx.actor, objects);
        yield tracked(`${Date.now()}-${sent}`, detail);
        if (detail.status === 'terminated') return;
      }
    } finally {
      unsubscribe();
      stopObjects();
    }
  }),
});
