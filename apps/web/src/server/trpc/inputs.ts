import { isSessionId, SESSION_ID_FORMAT } from '@cks-lab/core';
import { z } from 'zod';

export const sessionId = z.string().refine(isSessionId, `malformed session id: expected ${SESSION_ID_FORMAT}`);

export const timeRange = z
  .object({
    from: z.number().int().nonnegative().optional(),
    to: z.number().int().nonnegative().optional(),
  })
  .refine((r) => r.from === undefined || r.to === undefined || r.from <= r.to, 'from must not be after to')
  .default({});
