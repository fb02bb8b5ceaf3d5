import type { EventBodyInput, RoadEvent } from '@roadwatch/shared';

/** One stored event, with its wire JSON kept ready so batches are built without re-serialising. */
export interface OutboxRow {
  seq: number;
  eventId: string;
  /** The event exactly as it goes on the wire (JSON of a protocol v1 event). */
  payload: string;
  bytes: number;
  /** Wall-clock ms when the row was written; the age cap uses it. */
  createdAt: number;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestCreatedAt: number | null;
  newestSeq: number | null;
  lastAckAt: number | null;
  evictedTotal: number;
}

export interface EvictionResult {
  evicted: number;
  reason: 'bytes' | 'age' | null;
}

/**
 * The agent's only durability layer. Events get their eventId and seq here, inside the
 * transaction that stores them, before anything is sent. Sync only removes settled rows.
 */
export interface Outbox {
  /** Stores events in one transaction, assigning eventId (UUIDv7) and the next per-device seq; applies the caps. */
  append(events: readonly EventBodyInput[]): RoadEvent[];
  /** Oldest rows with seq > afterSeq, at most maxEvents and about maxBytes of payload (always at least one row). */
  readAfter(afterSeq: number, maxEvents: number, maxBytes: number): OutboxRow[];
  /**
   * What readAfter would return, counted without reading the payloads: how many rows wait after
   * afterSeq (at most maxEvents), and whether they fill a batch — maxEvents rows, or more than
   * maxBytes of payload (readAfter would cut there).
   */
  waitingAfter(afterSeq: number, maxEvents: number, maxBytes: number): { events: number; full: boolean };
  /** Removes rows fromSeq..toSeq (inclusive) whose batch the hub acked; records the ack time. Returns rows removed. */
  settle(fromSeq: number, toSeq: number, ackedAt: number): number;
  /** Applies the age and byte caps (oldest first); also called by append. */
  enforceCaps(now: number): EvictionResult;
  stats(): OutboxStats;
  close(): void;
}
