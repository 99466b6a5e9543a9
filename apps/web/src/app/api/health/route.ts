import { getRuntime } from '~/server/runtime';

export const dynamic = 'force-dynamic';

/** Readiness: the orchestrator has started and the database answers. */
export async function GET(): Promise<Response> {
  try {
    const runtime = await getRuntime();
    const activeSessions = await runtime.database.store.countActiveSessions();
    return Response.json({ ok: true, mode: runtime.lab.mode, simulated: runtime.simulated, activeSessions });
  } catch (error) {
    return Response.json({ ok: false, error: error instanceof Error ? error.message : String(error) }, { status: 503 });
  }
}
