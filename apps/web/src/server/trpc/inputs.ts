import { z } from 'zod';

export const sessionId = z
  .string()
  .regex(/^[0-9a-f]{8}$/, 'malformed session id: expected 8 lowercase hex characters, e.g. 76c3ac1b');

export const timeRange = z
  .object({
    from: z.number().int().nonnegative().optional(),
    to: z.number().int().nonnegative().optional(),
  })
  .refine((r) => r.from === undefined || r.to === undefined || r.from <= r.to, 'from must not be after to')
  .default({});
