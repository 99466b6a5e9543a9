import { ACCOUNT_ROLES } from '@cks-lab/core';
import { z } from 'zod';
import { adminProcedure, router } from '../init';
import { accountView } from '../views';

const accountId = z.object({ id: z.string().min(1).max(64) });

/** Account administration (admins only). New and reset passwords are in the answer once, never stored in the clear. */
export const usersRouter = router({
  list: adminProcedure.query(async ({ ctx }) => (await ctx.runtime.accounts.list()).map(accountView)),

  create: adminProcedure
    .input(z.object({ username: z.string().min(1).max(64), role: z.enum(ACCOUNT_ROLES).default('learner') }))
    .mutation(async ({ ctx, input }) => {
      const { account, password } = await ctx.runtime.accounts.create(input);
      return { ...accountView(account), password };
    }),

  resetPassword: adminProcedure.input(accountId).mutation(async ({ ctx, input }) => {
    const { account, password } = await ctx.runtime.accounts.resetPassword(input.id);
    return { ...accountView(account), password };
  }),

  setDisabled: adminProcedure
    .input(accountId.extend({ disabled: z.boolean() }))
    .mutation(async ({ ctx, input }) => accountView(await ctx.runtime.accounts.setDisabled(input.id, input.disabled, ctx.actor))),
});
