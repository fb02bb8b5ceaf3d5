import { EventBodySchema, formatZodIssues, type EventBodyInput } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Outbox } from '../outbox/outbox.js';

const RETRY_MS = 5_000;
/** Events held in memory while the outbox refuses writes (a full disk); beyond it the oldest go, counted. */
const MAX_HELD = 10_000;

export interface OutboxWriterStats {
  written: number;
  held: number;
  /** Dropped while the outbox could not take them for so long that MAX_HELD overflowed. */
  lost: number;
  invalid: number;
  lastError: string | null;
}

/**
 * Appends released events to the outbox and wakes the uplink. When SQLite refuses (disk full, I/O
 * error) the events are held in memory and retried, so a passing fault loses nothing.
 */
export class OutboxWriter {
  private held: EventBodyInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly counters = { written: 0, lost: 0, invalid: 0 };
  private lastError: string | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly notify: () => void,
    private readonly logger: Logger,
  ) {}

  readonly write = (events: readonly EventBodyInput[]): void => {
    for (const event of events) {
      // A malformed event is a bug upstream; it must not hold up the good ones behind it.
      const checked = EventBodySchema.safeParse(event);
      if (checked.success) this.held.push(event);
      else {
        this.counters.invalid++;
        this.logger.error({ event, issues: formatZodIssues(checked.error) }, 'event dropped: it does not match the wire protocol');
      }
    }
    if (this.held.length > MAX_HELD) {
      const over = this.held.length - MAX_HELD;
      this.held.splice(0, over);
      this.counters.lost += over;
      this.logger.error({ lost: over }, 'outbox unwritable for too long: oldest held events dropped');
    }
    this.flush();
  };

  /** Tries to write what is held; false while the outbox still refuses. */
  flush(): boolean {
    if (this.held.length === 0) return true;
    try {
      this.outbox.append(this.held);
      this.counters.written += this.held.length;
      this.held = [];
      this.lastError = null;
      clearTimeout(this.timer);
      this.timer = undefined;
      this.notify();
      return true;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      this.logger.error({ err: error, held: this.held.length }, `cannot write events to the outbox; holding them and retrying in ${RETRY_MS / 1000} s`);
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, RETRY_MS);
      return false;
    }
  }

  stats(): OutboxWriterStats {
    return { ...this.counters, held: this.held.length, lastError: this.lastError };
  }

  /** Last try before the outbox closes. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.flush()) this.logger.error({ lost: this.held.length }, 'events could not be written to the outbox before stopping');
  }
}
