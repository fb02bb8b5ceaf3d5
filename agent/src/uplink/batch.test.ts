import { describe, expect, it } from 'vitest';
import { BatchSchema, newBatchId, newEventId } from '@roadwatch/shared';
import { assembleBatch, batchBytes, buildBatchPayload, envelopeOverheadBytes, rowByteBudget, rowsThatFit } from './batch.js';

function eventJson(seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventId: newEventId(),
    seq,
    ts: '2026-11-22T08:00:58.120Z',
    clock: 'gps',
    lat: 52.37021,
    lon: 4.89517,
    class: 'pothole',
    confidence: 0.87,
    hits: 5,
    ...extra,
  });
}

describe('buildBatchPayload', () => {
  it('splices stored event JSON into an envelope that parses and validates with BatchSchema', () => {
    const payloads = [eventJson(1), eventJson(2, { model: 'road-damage-tiny@1 — ünïcode' }), eventJson(3)];
    const batchId = newBatchId();
    const text = buildBatchPayload({ deviceId: 'veh-0042', batchId, sentAt: new Date(0).toISOString(), payloads });
    const parsed = BatchSchema.parse(JSON.parse(text));
    expect(parsed.batchId).toBe(batchId);
    expect(parsed.deviceId).toBe('veh-0042');
    expect(parsed.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(text).toContain(payloads[1]);
  });

  it('overhead + payload bytes + commas equals the real UTF-8 size', () => {
    const payloads = [eventJson(1), eventJson(2, { class: 'crack-é' }), eventJson(3)];
    const text = buildBatchPayload({ deviceId: 'veh-1', batchId: newBatchId(), sentAt: new Date().toISOString(), payloads });
    const sizes = payloads.map((p) => Buffer.byteLength(p));
    expect(batchBytes(envelopeOverheadBytes('veh-1'), sizes)).toBe(Buffer.byteLength(text));
  });
});

describe('rowsThatFit', () => {
  it('keeps the rows whose batch stays within the cap', () => {
    // overhead 10, rows of 10 bytes: 1 row = 20, 2 rows = 31, 3 rows = 42
    expect(rowsThatFit(10, [10, 10, 10], 42)).toBe(3);
    expect(rowsThatFit(10, [10, 10, 10], 41)).toBe(2);
    expect(rowsThatFit(10, [10, 10, 10], 31)).toBe(2);
    expect(rowsThatFit(10, [10, 10, 10], 30)).toBe(1);
  });

  it('always lets one row through so an oversized row cannot block the queue', () => {
    expect(rowsThatFit(10, [100, 1], 50)).toBe(1);
    expect(rowsThatFit(10, [], 50)).toBe(0);
  });
});

describe('assembleBatch', () => {
  it('takes the leading rows that fit and reports the seq range', () => {
    const rows = [1, 2, 3, 4].map((seq) => ({ seq, payload: eventJson(seq) }));
    const overheadBytes = envelopeOverheadBytes('veh-1');
    const two = overheadBytes + Buffer.byteLength(rows[0]!.payload) * 2 + 1;
    const batch = assembleBatch(rows, { deviceId: 'veh-1', batchId: newBatchId(), sentAt: new Date().toISOString(), overheadBytes, batchMaxBytes: two });
    expect(batch).toMatchObject({ fromSeq: 1, toSeq: 2, events: 2 });
    expect(batch!.bytes).toBeLessThanOrEqual(two);
    expect(BatchSchema.parse(JSON.parse(batch!.payload)).events).toHaveLength(2);
    expect(assembleBatch([], { deviceId: 'veh-1', batchId: newBatchId(), sentAt: new Date().toISOString(), overheadBytes, batchMaxBytes: two })).toBeUndefined();
  });

  it('asks the outbox for the room left after the envelope and the commas', () => {
    expect(rowByteBudget(200, 500, 4_296)).toBe(4_096 - 40);
    expect(rowByteBudget(200, 3, 4_296)).toBe(4_096 - 2);
    expect(rowByteBudget(5_000, 10, 4_096)).toBe(1);
  });
});
