import { describe, expect, it } from 'vitest';
import { InFlightTracker, type InFlightBatch } from './in-flight.js';

const batch = (id: string, fromSeq: number, toSeq: number, sentAt = 0): InFlightBatch => ({ batchId: id, fromSeq, toSeq, events: toSeq - fromSeq + 1, sentAt });

describe('InFlightTracker', () => {
  it('tracks batches in send order and takes them by id', () => {
    const t = new InFlightTracker();
    t.add(batch('a', 1, 10, 100));
    t.add(batch('b', 11, 20, 200));
    expect(t.size).toBe(2);
    expect(t.oldest()?.batchId).toBe('a');
    expect(t.take('a')).toEqual({ batch: batch('a', 1, 10, 100), retired: false });
    expect(t.oldest()?.batchId).toBe('b');
    expect(t.take('a')).toBeUndefined();
    expect(t.take('zzz')).toBeUndefined();
  });

  it('retired batches can still be settled by a late ack, once', () => {
    const t = new InFlightTracker();
    t.add(batch('a', 1, 10));
    t.add(batch('b', 11, 20));
    expect(t.retireAll()).toBe(2);
    expect(t.size).toBe(0);
    expect(t.oldest()).toBeUndefined();
    expect(t.take('b')).toEqual({ batch: batch('b', 11, 20), retired: true });
    expect(t.take('b')).toBeUndefined();
  });

  it('bounds the retired set, dropping the oldest', () => {
    const t = new InFlightTracker(2);
    for (const id of ['a', 'b', 'c']) t.add(batch(id, 1, 1));
    t.retireAll();
    expect(t.retiredSize).toBe(2);
    expect(t.take('a')).toBeUndefined();
    expect(t.take('c')?.retired).toBe(true);
  });
});
