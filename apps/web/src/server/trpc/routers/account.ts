import { router, signedInProcedure } from '../init';

/** The caller, as the pages and the CLI show it. */
export const accountRouter = router({
  me: signedInProcedure.query(({ ctx }) => ({ name: ctx.identity.name, role: ctx.actor.role, via: ctx.identity.via })),
});
