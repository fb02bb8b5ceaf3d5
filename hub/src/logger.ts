import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level?: string;
  /** A file descriptor (1 = stdout, 2 = stderr) or a stream; stdout by default. */
  destination?: number | DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * pino JSON lines (journald and log shippers read them as they are). Writes are synchronous so a
 * line logged just before the process exits is never lost, and end-to-end tests can read the
 * `mqtt listening` / `http listening` lines as soon as they happen.
 */
export function createLogger({ level = 'info', destination = 1, base = {} }: CreateLoggerOptions = {}): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, base: { name: 'roadwatch-hub', ...base }, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
