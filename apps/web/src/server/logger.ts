import type { Logger } from '@cks-lab/core';
import pino from 'pino';

/** Structured JSON logs (pino); the core Logger port is a thin view of it. */
export function createLogger(bindings: Record<string, unknown>): Logger {
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { service: 'cks-lab', ...bindings } });
  return {
    info: (fields, message) => log.info(fields, message),
    warn: (fields, message) => log.warn(fields, message),
    error: (fields, message) => log.error(fields, message),
  };
}
