import { v7 } from 'uuid';

/** Time-ordered UUIDv7: the end-to-end idempotency key of an event, and the id of a batch. */
export function newEventId(): string {
  return v7();
}

export function newBatchId(): string {
  return v7();
}

/** Milliseconds since the epoch encoded in a UUIDv7 (its first 48 bits). */
export function uuidV7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}
