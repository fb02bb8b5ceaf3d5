/**
 * Jittered exponential backoff (pure: no timers, randomness injected).
 * See "Exponential Backoff And Jitter" (AWS architecture blog) for both strategies.
 */
export type JitterMode = 'full' | 'decorrelated';

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  jitter: JitterMode;
}

/** Full jitter: uniform in [minMs, min(maxMs, minMs·2^attempt)]; attempt counts from 0. */
export function fullJitterDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return clamp(Math.round(minMs + random() * (ceiling - minMs)), minMs, maxMs);
}

/** Decorrelated jitter: uniform in [minMs, previousMs·3], capped at maxMs. */
export function decorrelatedJitterDelay(previousMs: number, minMs: number, maxMs: number, random: () => number): number {
  const upper = Math.max(minMs, previousMs * 3);
  return clamp(Math.round(minMs + random() * (upper - minMs)), minMs, maxMs);
}

/** Stateful wrapper: `next()` gives the delay before the next attempt, `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  private previous: number;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {
    if (!(policy.minMs > 0) || !(policy.maxMs >= policy.minMs)) {
      throw new RangeError(`backoff needs 0 < minMs <= maxMs (got minMs=${policy.minMs}, maxMs=${policy.maxMs})`);
    }
    this.previous = policy.minMs;
  }

  /** Attempts made since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    const { minMs, maxMs, jitter } = this.policy;
    const delay =
      jitter === 'full'
        ? fullJitterDelay(this.attempt, minMs, maxMs, this.random)
        : decorrelatedJitterDelay(this.previous, minMs, maxMs, this.random);
    this.attempt += 1;
    this.previous = delay;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
    this.previous = this.policy.minMs;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
