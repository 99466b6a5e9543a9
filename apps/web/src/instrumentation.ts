/** Next.js calls this once per server start: the orchestrator starts with the server and resumes unfinished work. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  const { getRuntime } = await import('./server/runtime');
  // server.ts has already started the runtime (or stopped with the reason); under plain `next start`
  // or `next dev` this is the first start, and a server without its runtime would answer 500 everywhere.
  const runtime = await getRuntime().catch((error: unknown) => {
    process.stderr.write(`cks-lab cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
  const hint = await runtime.accounts.firstAdminHint();
  if (hint) process.stdout.write(hint);
}
