import { describe, expect, it } from 'vitest';
import { Backoff, decorrelatedJitterDelay, fullJitterDelay } from './backoff.js';

describe('fullJitterDelay', () => {
  it('stays within [min, min·2^attempt] and never above max', () => {
    expect(fullJitterDelay(0, 100, 10_000, () => 0)).toBe(100);
    expect(fullJitterDelay(0, 100, 10_000, () => 0.999999)).toBe(100);
    expect(fullJitterDelay(3, 100, 10_000, () => 1)).toBe(800);
    expect(fullJitterDelay(3, 100, 10_000, () => 0.5)).toBe(450);
    expect(fullJitterDelay(60, 100, 10_000, () => 1)).toBe(10_000);
    expect(fullJitterDelay(10_000, 100, 10_000, () => 0.3)).toBeLessThanOrEqual(10_000);
  });

  it('is bounded for any random value in [0,1)', () => {
    for (let attempt = 0; attempt < 40; attempt++) {
      for (let i = 0; i < 50; i++) {
        const d = fullJitterDelay(attempt, 50, 5_000, Math.random);
        expect(d).toBeGreaterThanOrEqual(50);
        expect(d).toBeLessThanOrEqual(Math.min(5_000, 50 * 2 ** attempt));
      }
    }
  });
});

describe('decorrelatedJitterDelay', () => {
  it('draws from [min, 3·previous] capped at max', () => {
    expect(decorrelatedJitterDelay(100, 100, 10_000, () => 0)).toBe(100);
    expect(decorrelatedJitterDelay(100, 100, 10_000, () => 1)).toBe(300);
    expect(decorrelatedJitterDelay(5_000, 100, 10_000, () => 1)).toBe(10_000);
    expect(decorrelatedJitterDelay(0, 100, 10_000, () => 1)).toBe(100);
  });
});

describe('Backoff', () => {
  it('grows exponentially with full jitter and resets', () => {
    const b = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 'full' }, () => 1);
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1_000]);
    expect(b.attempts).toBe(5);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('decorrelated mode grows from the previous delay and stays capped', () => {
    const b = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 'decorrelated' }, () => 1);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([300, 900, 1_000, 1_000]);
    b.reset();
    expect(b.next()).toBe(300);
  });

  it('rejects an impossible policy', () => {
    expect(() => new Backoff({ minMs: 0, maxMs: 10, jitter: 'full' })).toThrow(RangeError);
    expect(() => new Backoff({ minMs: 100, maxMs: 10, jitter: 'full' })).toThrow(/minMs <= maxMs/);
  });
});
