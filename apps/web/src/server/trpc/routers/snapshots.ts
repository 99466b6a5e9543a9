import { z } from 'zod';
import { adminProcedure, router } from '../init';
import { sessionId } from '../inputs';
import { goldenView } from '../views';

const fromSession = z.object({ sessionId });

/** The golden image admin operations; all need an admin account or the admin token. */
export const snapshotsRouter = router({
  status: adminProcedure.query(async ({ ctx }) => goldenView(await ctx.runtime.lab.goldenStatus(), ctx.runtime)),

  create: adminProcedure.input(fromSession).mutation(async ({ ctx, input }) => {
    await ctx.runtime.lab.createGolden(input.sessionId, false);
    return goldenView(await ctx.runtime.lab.goldenStatus(), ctx.runtime);
  }),

  recreate: adminProcedure.input(fromSession).mutation(async ({ ctx, input }) => {
    await ctx.runtime.lab.createGolden(input.sessionId, true);
    return goldenView(await ctx.runtime.lab.goldenStatus(), ctx.runtime);
  }),

  delete: adminProcedure.mutation(async ({ ctx }) => {
    await ctx.runtime.lab.deleteGolden();
    return goldenView(await ctx.runtime.lab.goldenStatus(), ctx.runtime);
  }),
});
