import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level?: string;
  /** Logger name on every line; `roadwatch` by default. */
  name?: string;
  /**
   * A file descriptor (1 = stdout, 2 = stderr) or a stream; stdout by default. CLI commands that
   * print human output to stdout pass 2 so their logs never mix with it.
   */
  destination?: number | DestinationStream;
}

/**
 * pino JSON lines to stdout (journald reads them as they are). Writes are synchronous so a line
 * logged just before the process exits is never lost.
 */
export function createLogger({ level = 'info', name = 'roadwatch', destination = 1 }: CreateLoggerOptions = {}): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, name, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
