import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock, IdSource } from '@cks-lab/core';

export const systemClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

/** Session ids are 8 lowercase hex characters (docs/architecture.md#names); run ids are UUIDs. */
export const randomIds: IdSource = {
  sessionId: () => randomBytes(4).toString('hex'),
  runId: () => randomUUID(),
};
