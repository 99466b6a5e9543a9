import { z } from 'zod';
import { adminProcedure, router } from '../init';
import { poolView } from '../views';

/** The warm pool, for admins: what it holds and why, and its size until the next restart. */
export const poolRouter = router({
  status: adminProcedure.query(async ({ ctx }) => poolView(await ctx.runtime.lab.poolStatus())),

  resize: adminProcedure
    .input(z.object({ size: z.number().int().min(0).max(1000) }))
    .mutation(async ({ ctx, input }) => poolView(await ctx.runtime.lab.resizePool(input.size))),
});
