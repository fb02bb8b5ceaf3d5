import { describe, expect, it } from 'vitest';
import { envelope, middlewareHarness } from '../../testing/harness.js';
import { MemoryRateLimitStore, rateLimit, type RateLimitOptions, type RateLimitStore } from './index.js';

describe('rateLimit', () => {
  const build = (options: RateLimitOptions) =>
    middlewareHarness((app) => {
      // Stands in for bearerAuth: the token comes from a test header.
      app.use(async (c, next) => {
        const name = c.req.header('x-token');
        if (name) c.set('token', { id: `id-${name}`, name, scope: 'read' });
        await next();
      });
      app.use(rateLimit(options));
      app.get('/r', (c) => c.text('ok'));
    });
  const as = (name: string) => ({ headers: { 'x-token': name } });

  it('allows `limit` requests a window per token, then 429 rate_limited with Retry-After, and again after the window', async () => {
    let now = 1_000_000;
    const app = build({ limit: 3, windowMs: 60_000, clock: () => now });
    for (let i = 0; i < 3; i++) {
      const res = await app.request('/r', as('alice'));
      expect(res.status).toBe(200);
      expect(res.headers.get('RateLimit-Limit')).toBe('3');
      expect(res.headers.get('RateLimit-Remaining')).toBe(String(2 - i));
    }
    now += 20_500;
    const limited = await app.request('/r', as('alice'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('Retry-After')).toBe('40');
    const error = await envelope(limited);
    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe('rate limit of 3 requests per 60 s exceeded for token alice; retry in 40 s');
    // Another token has its own budget.
    expect((await app.request('/r', as('bob'))).status).toBe(200);
    now += 39_500;
    expect((await app.request('/r', as('alice'))).status).toBe(200);
  });

  it('does not count requests without a token, or anything with limit 0', async () => {
    const app = build({ limit: 1, clock: () => 0 });
    for (let i = 0; i < 3; i++) expect((await app.request('/r')).status).toBe(200);
    const off = build({ limit: 0, clock: () => 0 });
    for (let i = 0; i < 3; i++) expect((await off.request('/r', as('alice'))).status).toBe(200);
  });

  it('uses the injected store', async () => {
    const calls: Array<[string, number, number]> = [];
    const store: RateLimitStore = {
      hit: async (key, now, windowMs) => {
        calls.push([key, now, windowMs]);
        return { count: 99, resetAt: now + 1_000 };
      },
    };
    const app = build({ limit: 10, windowMs: 5_000, store, clock: () => 42 });
    const res = await app.request('/r', as('carol'));
    expect(res.status).toBe(429);
    expect(res.headers.get('Retry-After')).toBe('1');
    expect(calls).toEqual([['token:id-carol', 42, 5_000]]);
  });
});

describe('MemoryRateLimitStore', () => {
  it('counts per key in fixed windows', () => {
    const store = new MemoryRateLimitStore();
    expect(store.hit('a', 0, 1_000)).toEqual({ count: 1, resetAt: 1_000 });
    expect(store.hit('a', 999, 1_000)).toEqual({ count: 2, resetAt: 1_000 });
    expect(store.hit('b', 500, 1_000)).toEqual({ count: 1, resetAt: 1_500 });
    expect(store.hit('a', 1_000, 1_000)).toEqual({ count: 1, resetAt: 2_000 });
  });

  it('stays within maxKeys: expired windows go first, then the oldest', () => {
    const store = new MemoryRateLimitStore(3);
    store.hit('a', 0, 100);
    store.hit('b', 0, 100);
    store.hit('c', 50, 1_000);
    store.hit('d', 200, 1_000); // a and b expired: swept
    expect(store.size).toBe(2);
    store.hit('e', 300, 1_000);
    store.hit('f', 300, 1_000); // all live: c, the oldest, goes
    expect(store.size).toBe(3);
    expect(store.hit('c', 300, 1_000).count).toBe(1);
  });
});
