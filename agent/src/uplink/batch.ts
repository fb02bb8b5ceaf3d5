import { PROTOCOL_VERSION } from '@roadwatch/shared';

export interface BatchParts {
  deviceId: string;
  batchId: string;
  /** ISO-8601 timestamp. */
  sentAt: string;
  /** Event JSON strings exactly as stored in the outbox; they are spliced in, never re-serialised. */
  payloads: readonly string[];
}

/** `{"v":1,"deviceId":..,"batchId":..,"sentAt":..,"events":[` + payloads.join(',') + `]}` */
export function buildBatchPayload(parts: BatchParts): string {
  const head = JSON.stringify({ v: PROTOCOL_VERSION, deviceId: parts.deviceId, batchId: parts.batchId, sentAt: parts.sentAt });
  return `${head.slice(0, -1)},"events":[${parts.payloads.join(',')}]}`;
}

const SAMPLE_UUID = '00000000-0000-7000-8000-000000000000';
const SAMPLE_ISO = '2000-01-01T00:00:00.000Z';

/** Bytes of a batch around its events (envelope with an empty events array), for a UUID batchId and a `toISOString()` sentAt. */
export function envelopeOverheadBytes(deviceId: string): number {
  return Buffer.byteLength(buildBatchPayload({ deviceId, batchId: SAMPLE_UUID, sentAt: SAMPLE_ISO, payloads: [] }));
}

/** UTF-8 size of the batch these payloads make: envelope + payload bytes + separating commas. */
export function batchBytes(overheadBytes: number, payloadBytes: readonly number[]): number {
  let total = overheadBytes + Math.max(0, payloadBytes.length - 1);
  for (const b of payloadBytes) total += b;
  return total;
}

/**
 * How many leading rows fit in maxBytes (always at least one, so one oversized row never blocks the queue;
 * the hub quarantines it if it is too large).
 */
export function rowsThatFit(overheadBytes: number, payloadBytes: readonly number[], maxBytes: number): number {
  let total = overheadBytes;
  for (let i = 0; i < payloadBytes.length; i++) {
    total += payloadBytes[i]! + (i > 0 ? 1 : 0);
    if (total > maxBytes) return Math.max(1, i);
  }
  return payloadBytes.length;
}

/** A batch ready to publish, and the seq range an ack for it settles. */
export interface AssembledBatch {
  payload: string;
  fromSeq: number;
  toSeq: number;
  events: number;
  bytes: number;
}

/** Byte budget to ask the outbox for: room after the envelope, minus the commas that many rows would need. */
export function rowByteBudget(overheadBytes: number, batchMaxEvents: number, batchMaxBytes: number, minEventBytes = 100): number {
  const room = batchMaxBytes - overheadBytes;
  return Math.max(1, room - Math.min(batchMaxEvents - 1, Math.floor(room / minEventBytes)));
}

/**
 * Builds one batch from the leading rows (in seq order) that fit in batchMaxBytes; the rest are left
 * for the next batch. Undefined when there are no rows.
 */
export function assembleBatch(
  rows: readonly { seq: number; payload: string }[],
  envelope: { deviceId: string; batchId: string; sentAt: string; overheadBytes: number; batchMaxBytes: number },
): AssembledBatch | undefined {
  if (rows.length === 0) return undefined;
  const take = rowsThatFit(envelope.overheadBytes, rows.map((r) => Buffer.byteLength(r.payload)), envelope.batchMaxBytes);
  const used = rows.slice(0, take);
  const payload = buildBatchPayload({ deviceId: envelope.deviceId, batchId: envelope.batchId, sentAt: envelope.sentAt, payloads: used.map((r) => r.payload) });
  return { payload, fromSeq: used[0]!.seq, toSeq: used[used.length - 1]!.seq, events: used.length, bytes: Buffer.byteLength(payload) };
}
