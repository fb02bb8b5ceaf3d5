import { describe, expect, it } from 'vitest';
import { newBatchId } from '@roadwatch/shared';
import { parseAck } from './ack.js';

describe('parseAck', () => {
  it('accepts a protocol v1 ack', () => {
    const batchId = newBatchId();
    const result = parseAck(Buffer.from(JSON.stringify({ v: 1, batchId, stored: ['a'], duplicates: 2, rejected: [{ seq: 3, eventId: null, reason: 'lat out of range' }] })));
    expect(result).toEqual({ ok: true, ack: { v: 1, batchId, stored: ['a'], duplicates: 2, rejected: [{ seq: 3, eventId: null, reason: 'lat out of range' }] } });
  });

  it('reports bad JSON and schema violations without throwing', () => {
    expect(parseAck('{nope')).toMatchObject({ ok: false, reason: expect.stringMatching(/^not JSON/) });
    const bad = parseAck(JSON.stringify({ v: 2, batchId: 'x' }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toMatch(/batchId: must be a UUID/);
  });
});
