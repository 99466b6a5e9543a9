import { names } from './naming';
import type { IdSource } from './ports';
import type { FallbackReason, Run, Session, Strategy } from './types';

/** What differs between a learner's session and a warm-pool member when either is first recorded. */
export interface NewSession {
  expiresAt: number;
  ownerId: string | null;
  strategy: Strategy;
  fallbackReason: FallbackReason | null;
  fallbackDetail: string | null;
  goldenVersion: number | null;
  pool?: boolean;
}

/** A new session, pending, and the run that will provision it (both still to be stored). */
export function newSessionRecords(ids: IdSource, now: number, fields: NewSession): { session: Session; run: Run } {
  const id = ids.sessionId();
  const runId = ids.runId();
  const pool = fields.pool ? { pool: true } : {};
  const session: Session = {
    id,
    namespace: names.namespace(id),
    status: 'pending',
    createdAt: now,
    updatedAt: now,
    expiresAt: fields.expiresAt,
    strategy: fields.strategy,
    failureReason: null,
    runId,
    ownerId: fields.ownerId,
    ...pool,
  };
  const run: Run = {
    id: runId,
    sessionId: id,
    requestedStrategy: fields.strategy,
    usedStrategy: fields.strategy,
    fallbackReason: fields.fallbackReason,
    fallbackDetail: fields.fallbackDetail,
    goldenVersion: fields.goldenVersion,
    startedAt: now,
    endedAt: null,
    outcome: 'running',
    failureReason: null,
    ...pool,
  };
  return { session, run };
}
