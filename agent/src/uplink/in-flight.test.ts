import { describe, expect, it } from 'vitest';
import { AckWait, InFlightTracker, ackOverdue, ackWaitMs, smoothAckRtt, type InFlightBatch } from './in-flight.js';

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

describe('ackOverdue', () => {
  const o = { timeoutMs: 30_000, maxWaitMs: 240_000 };
  it('without any ack: overdue once the oldest batch waited timeoutMs', () => {
    expect(ackOverdue({ ...o, now: 29_999, oldestSentAt: 0, lastAckAt: null })).toBe(false);
    expect(ackOverdue({ ...o, now: 30_000, oldestSentAt: 0, lastAckAt: null })).toBe(true);
  });

  it('acks for later batches hold the resend: a hub that is behind, not gone', () => {
    expect(ackOverdue({ ...o, now: 100_000, oldestSentAt: 0, lastAckAt: 80_000 })).toBe(false);
    expect(ackOverdue({ ...o, now: 110_000, oldestSentAt: 0, lastAckAt: 80_000 })).toBe(true); // 30 s without progress
  });

  it('but never past maxWaitMs for the oldest batch (one batch lost while later ones get through)', () => {
    expect(ackOverdue({ ...o, now: 239_999, oldestSentAt: 0, lastAckAt: 239_000 })).toBe(false);
    expect(ackOverdue({ ...o, now: 240_000, oldestSentAt: 0, lastAckAt: 239_999 })).toBe(true);
  });

  it('an ack from before the oldest batch was sent is no progress for it', () => {
    expect(ackOverdue({ ...o, now: 49_999, oldestSentAt: 20_000, lastAckAt: 10_000 })).toBe(false); // 29.999 s since the send, not 39.999 since the ack
    expect(ackOverdue({ ...o, now: 50_000, oldestSentAt: 20_000, lastAckAt: 10_000 })).toBe(true);
  });

  it('each resend without an ack in between doubles the wait, up to maxWaitMs', () => {
    expect(ackOverdue({ ...o, now: 59_999, oldestSentAt: 0, lastAckAt: null, missed: 1 })).toBe(false);
    expect(ackOverdue({ ...o, now: 60_000, oldestSentAt: 0, lastAckAt: null, missed: 1 })).toBe(true);
    expect(ackOverdue({ ...o, now: 119_999, oldestSentAt: 0, lastAckAt: null, missed: 2 })).toBe(false);
    expect(ackOverdue({ ...o, now: 239_999, oldestSentAt: 0, lastAckAt: null, missed: 9 })).toBe(false);
    expect(ackOverdue({ ...o, now: 240_000, oldestSentAt: 0, lastAckAt: null, missed: 9 })).toBe(true); // capped
    expect(ackWaitMs(30_000, 0, 240_000)).toBe(30_000);
    expect(ackWaitMs(30_000, 3, 240_000)).toBe(240_000);
    expect(ackWaitMs(30_000, 1_000, 240_000)).toBe(240_000);
    expect(ackWaitMs(30_000, 2, 10_000)).toBe(30_000); // a cap below the timeout does not shorten it
  });

  it('waits at least twice the smoothed ack round trip: a hub minutes behind is waited for, not flooded', () => {
    expect(ackOverdue({ ...o, now: 199_999, oldestSentAt: 0, lastAckAt: null, srttMs: 100_000 })).toBe(false);
    expect(ackOverdue({ ...o, now: 200_000, oldestSentAt: 0, lastAckAt: null, srttMs: 100_000 })).toBe(true);
    expect(ackOverdue({ ...o, now: 30_000, oldestSentAt: 0, lastAckAt: null, srttMs: 200 })).toBe(true); // a quick hub: the configured timeout
    expect(ackWaitMs(30_000, 0, 240_000, 200_000)).toBe(240_000); // never beyond maxWaitMs
    expect(ackWaitMs(30_000, 1, 240_000, 50_000)).toBe(200_000);
  });

  it('smooths the round trip with gain 1/8, starting from the first sample', () => {
    expect(smoothAckRtt(null, 1_000)).toBe(1_000);
    expect(smoothAckRtt(1_000, 9_000)).toBe(2_000);
    let srtt: number | null = null;
    for (let i = 0; i < 100; i++) srtt = smoothAckRtt(srtt, 120_000);
    expect(srtt).toBe(120_000);
  });

  it('maxWaitMs below timeoutMs does not shorten the timeout', () => {
    expect(ackOverdue({ now: 20_000, oldestSentAt: 0, lastAckAt: 19_000, timeoutMs: 30_000, maxWaitMs: 10_000 })).toBe(false);
  });
});

describe('AckWait', () => {
  it('doubles the wait per resend, learns the round trip from acks, and an ack resets the doubling', () => {
    const wait = new AckWait(30_000, 240_000);
    expect(wait.overdue(29_999, 0)).toBe(false);
    expect(wait.overdue(30_000, 0)).toBe(true);
    expect(wait.resent()).toBe(60_000); // the next wait
    expect(wait.overdue(30_000 + 59_999, 30_000)).toBe(false);
    expect(wait.overdue(30_000 + 60_000, 30_000)).toBe(true);
    wait.acked(100_000, 20_000); // 80 s publish → ack
    expect(wait.lastAckAt).toBe(100_000);
    expect(wait.srttMs).toBe(80_000);
    expect(wait.overdue(100_000 + 159_999, 100_000)).toBe(false); // twice the round trip, not doubled any more
    expect(wait.overdue(100_000 + 160_000, 100_000)).toBe(true);
  });
});
