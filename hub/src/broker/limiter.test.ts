import { describe, expect, it } from 'vitest';
import { Limiter } from './limiter.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Limiter', () => {
  it('grants at most `concurrency` slots and serves waiters in order', async () => {
    const limiter = new Limiter(2);
    const order: number[] = [];
    const releases: Array<() => void> = [];
    for (const n of [1, 2, 3, 4]) {
      void limiter.acquire().then((release) => {
        order.push(n);
        releases.push(release);
      });
    }
    await tick();
    expect(order).toEqual([1, 2]);
    expect(limiter.active).toBe(2);
    expect(limiter.waiting).toBe(2);
    releases[0]!();
    releases[0]!(); // a second call is ignored
    await tick();
    expect(order).toEqual([1, 2, 3]);
    expect(limiter.active).toBe(2);
    expect(limiter.waiting).toBe(1);
  });

  it('idle() resolves when every slot is released and nobody waits', async () => {
    const limiter = new Limiter(1);
    await limiter.idle();
    const first = await limiter.acquire();
    const second = limiter.acquire();
    let idle = false;
    void limiter.idle().then(() => (idle = true));
    first();
    await tick();
    expect(idle).toBe(false);
    (await second)();
    await tick();
    expect(idle).toBe(true);
  });

  it('rejects a non-positive concurrency', () => {
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});
