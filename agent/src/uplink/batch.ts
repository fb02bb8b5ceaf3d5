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
