/** One published batch waiting for the hub's ack. */
export interface InFlightBatch {
  batchId: string;
  fromSeq: number;
  toSeq: number;
  events: number;
  /** Monotonic ms when it was published (the ack timeout is measured from it; never the wall clock). */
  sentAt: number;
}

/**
 * Batches published and not yet acked, by batchId, in send order.
 * When the link drops or an ack times out, the outstanding batches are *retired*, not forgotten:
 * their rows are resent in new batches, but a late ack for a retired batch still names a seq
 * range the hub has committed, so it may settle those rows (settling is idempotent).
 */
export class InFlightTracker {
  private readonly active = new Map<string, InFlightBatch>();
  private readonly retired = new Map<string, InFlightBatch>();

  constructor(private readonly retiredLimit = 1024) {}

  get size(): number {
    return this.active.size;
  }

  add(batch: InFlightBatch): void {
    this.active.set(batch.batchId, batch);
  }

  /** Oldest outstanding batch (Map keeps insertion order). */
  oldest(): InFlightBatch | undefined {
    for (const batch of this.active.values()) return batch;
    return undefined;
  }

  /** Removes and returns the batch an ack names: outstanding first, then retired; undefined when unknown. */
  take(batchId: string): { batch: InFlightBatch; retired: boolean } | undefined {
    const batch = this.active.get(batchId);
    if (batch) {
      this.active.delete(batchId);
      return { batch, retired: false };
    }
    const old = this.retired.get(batchId);
    if (old) {
      this.retired.delete(batchId);
      return { batch: old, retired: true };
    }
    return undefined;
  }

  /** Moves every outstanding batch to the retired set (bounded, oldest dropped first); returns how many. */
  retireAll(): number {
    const count = this.active.size;
    for (const [id, batch] of this.active) this.retired.set(id, batch);
    this.active.clear();
    while (this.retired.size > this.retiredLimit) {
      const first = this.retired.keys().next().value as string;
      this.retired.delete(first);
    }
    return count;
  }

  get retiredSize(): number {
    return this.retired.size;
  }
}

/**
 * Whether the outstanding batches have waited too long for an ack, so that their rows are sent again.
 * A hub that acks other batches of this vehicle is alive and only behind — at a shift change the broker
 * queues minutes of batches — and resending then only adds duplicates to that queue. So the wait runs
 * from the later of the oldest batch's send and the last ack: `timeoutMs` without any progress; and
 * never longer than `maxWaitMs` for the oldest batch, which catches one batch lost while later ones get
 * through (a hub replica killed with it in hand). All times monotonic.
 *
 * The wait adapts to the hub, as TCP's retransmission timer does (RFC 6298): at least twice the
 * smoothed ack round trip `srttMs` (see smoothAckRtt), and each resend since the last ack (`missed`)
 * doubles it, never beyond `maxWaitMs`. At a shift change a vehicle's batches wait minutes in the
 * broker's queue; resending every 30 s into that queue only multiplied it (the fleet herd benchmark).
 */
export function ackOverdue(p: {
  now: number;
  oldestSentAt: number;
  lastAckAt: number | null;
  timeoutMs: number;
  maxWaitMs: number;
  missed?: number;
  srttMs?: number | null;
}): boolean {
  const progressAt = Math.max(p.oldestSentAt, p.lastAckAt ?? -Infinity);
  const longest = Math.max(p.maxWaitMs, p.timeoutMs);
  return p.now - progressAt >= ackWaitMs(p.timeoutMs, p.missed ?? 0, longest, p.srttMs) || p.now - p.oldestSentAt >= longest;
}

/** The ack wait: `timeoutMs` or twice the smoothed round trip, doubled per fruitless resend, at most `capMs`. */
export function ackWaitMs(timeoutMs: number, missed: number, capMs: number, srttMs: number | null = null): number {
  const base = Math.max(timeoutMs, 2 * (srttMs ?? 0));
  return Math.min(base * 2 ** Math.min(missed, 20), Math.max(capMs, timeoutMs));
}

/** RFC 6298's smoothed round trip (gain 1/8), from one batch's publish → ack time. */
export function smoothAckRtt(srttMs: number | null, sampleMs: number): number {
  return srttMs === null ? sampleMs : srttMs + (sampleMs - srttMs) / 8;
}

/**
 * One uplink's ack timer: the last ack, the resends since, the smoothed round trip — what ackOverdue
 * reads. The agent and the fleet simulator each keep one. All times monotonic.
 */
export class AckWait {
  /** When the last ack came; null before the first. */
  lastAckAt: number | null = null;
  /** Smoothed publish → ack time; null before the first ack. */
  srttMs: number | null = null;
  #missed = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxWaitMs: number,
  ) {}

  /** Whether the batches out since `oldestSentAt` are overdue at `now`. */
  overdue(now: number, oldestSentAt: number): boolean {
    return ackOverdue({ now, oldestSentAt, lastAckAt: this.lastAckAt, timeoutMs: this.timeoutMs, maxWaitMs: this.maxWaitMs, missed: this.#missed, srttMs: this.srttMs });
  }

  /** They were sent again: the next wait doubles. Returns that wait. */
  resent(): number {
    this.#missed++;
    return ackWaitMs(this.timeoutMs, this.#missed, Math.max(this.maxWaitMs, this.timeoutMs), this.srttMs);
  }

  /** An ack at `now` for a batch published at `sentAt`. Every batch id is sent once (a resend is a new
   *  batch), so even a late ack of a retired batch is a true sample — the telling one when the hub is minutes behind. */
  acked(now: number, sentAt: number): void {
    this.lastAckAt = now;
    this.#missed = 0;
    this.srttMs = smoothAckRtt(this.srttMs, now - sentAt);
  }
}
