/** Requests counted for one key in its current window. */
export interface RateLimitWindow {
  /** Requests in the window, this one included. */
  count: number;
  /** When the window ends (ms since the epoch); the count starts again from 0 then. */
  resetAt: number;
}

/**
 * Where request counts live. The in-memory store counts per process; several hub replicas behind
 * a load balancer each allow the limit, unless a shared store (Redis, Postgres) implements this.
 */
export interface RateLimitStore {
  /** Counts one request for `key` at `now` in a fixed window of `windowMs` starting at the key's first request. */
  hit(key: string, now: number, windowMs: number): RateLimitWindow | Promise<RateLimitWindow>;
}

/** Fixed windows in a Map; expired windows are swept once the map holds more than `maxKeys`. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, RateLimitWindow>();

  constructor(private readonly maxKeys = 100_000) {}

  get size(): number {
    return this.windows.size;
  }

  hit(key: string, now: number, windowMs: number): RateLimitWindow {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.delete(key);
      if (this.windows.size >= this.maxKeys) this.sweep(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count++;
    return { ...window };
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Still full of live windows: drop the oldest (Map order is insertion order).
    for (const key of this.windows.keys()) {
      if (this.windows.size < this.maxKeys) break;
      this.windows.delete(key);
    }
  }
}
