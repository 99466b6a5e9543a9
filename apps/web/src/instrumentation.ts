/** Next.js calls this once per server start: the orchestrator starts with the server and resumes unfinished work. */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== 'nodejs') return;
  if (process.env.NEXT_PHASE === 'phase-production-build') return;
  const { getRuntime } = await import('./server/runtime');
  const runtime = await getRuntime();
  const hint = await runtime.accounts.firstAdminHint();
  if (hint) process.stdout.write(hint);
}
