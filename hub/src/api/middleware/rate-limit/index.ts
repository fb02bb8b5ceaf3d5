import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../env.js';
import { ApiError } from '../../errors.js';
import { MemoryRateLimitStore, type RateLimitStore } from './store.js';

export { MemoryRateLimitStore, type RateLimitStore, type RateLimitWindow } from './store.js';

export interface RateLimitOptions {
  /** Requests allowed per window and key; 0 turns the limit off. */
  limit?: number;
  windowMs?: number;
  store?: RateLimitStore;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  /** What is counted: by default the API token (`c.get('token')`); undefined → not limited. */
  key?: (c: Context<AppEnv>) => string | undefined;
}

const byToken = (c: Context<AppEnv>): string | undefined => {
  const token = c.get('token');
  return token ? `token:${token.id}` : undefined;
};

/**
 * Fixed-window rate limit per key (per API token by default; place it after `bearerAuth`).
 * Every counted response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
 * (seconds); past the limit the answer is 429 `rate_limited` with `Retry-After` in seconds.
 */
export function rateLimit({ limit = 600, windowMs = 60_000, store = new MemoryRateLimitStore(), clock = Date.now, key = byToken }: RateLimitOptions = {}): MiddlewareHandler<AppEnv> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`rate limit must be a whole number ≥ 0, got ${limit}`);
  if (!(windowMs > 0)) throw new Error(`rate limit window must be > 0 ms, got ${windowMs}`);
  return async (c, next) => {
    const k = limit > 0 ? key(c) : undefined;
    if (k === undefined) return next();
    const now = clock();
    const window = await store.hit(k, now, windowMs);
    const resetS = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
    c.header('RateLimit-Limit', String(limit));
    c.header('RateLimit-Remaining', String(Math.max(0, limit - window.count)));
    c.header('RateLimit-Reset', String(resetS));
    if (window.count > limit) {
      const who = c.get('token')?.name;
      throw new ApiError(429, 'rate_limited', `rate limit of ${limit} requests per ${Math.round(windowMs / 1000)} s exceeded${who ? ` for token ${who}` : ''}; retry in ${resetS} s`, {
        'Retry-After': String(resetS),
      });
    }
    await next();
  };
}
