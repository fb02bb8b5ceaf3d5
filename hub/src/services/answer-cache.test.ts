import { describe, expect, it } from 'vitest';
import { AnswerCache } from './answer-cache.js';

describe('AnswerCache', () => {
  const setup = (entries = 3, maxAgeMs = 1000) => {
    let now = 0;
    const cache = new AnswerCache<string>(entries, maxAgeMs, () => now);
    let computed = 0;
    const ask = (key: string, version: string) => cache.get(key, version, async () => `${key}@${version}#${++computed}`);
    return { cache, ask, advance: (ms: number) => (now += ms), computed: () => computed };
  };

  it('answers again while the version holds and the answer is young; recomputes when either changes', async () => {
    const { ask, advance, computed } = setup();
    expect(await ask('a', 'v1')).toBe('a@v1#1');
    expect(await ask('a', 'v1')).toBe('a@v1#1');
    expect(await ask('a', 'v2')).toBe('a@v2#2');
    advance(999);
    expect(await ask('a', 'v2')).toBe('a@v2#2');
    advance(1);
    expect(await ask('a', 'v2')).toBe('a@v2#3');
    expect(computed()).toBe(3);
  });

  it('shares one computation between concurrent askers of a key and version', async () => {
    const cache = new AnswerCache<number>(3, 1000);
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const compute = async () => {
      runs++;
      await gate;
      return 42;
    };
    const answers = Promise.all([cache.get('k', 'v', compute), cache.get('k', 'v', compute), cache.get('k', 'v', compute)]);
    release();
    expect(await answers).toEqual([42, 42, 42]);
    expect(runs).toBe(1);
  });

  it('keeps at most `entries` answers, dropping the least recently used', async () => {
    const { cache, ask, computed } = setup(2);
    await ask('a', 'v');
    await ask('b', 'v');
    await ask('a', 'v'); // a is now the most recently used
    await ask('c', 'v'); // drops b
    expect(cache.size).toBe(2);
    expect(await ask('a', 'v')).toBe('a@v#1');
    expect(await ask('b', 'v')).toBe('b@v#4');
    expect(computed()).toBe(4);
  });

  it('does not keep a failure', async () => {
    const cache = new AnswerCache<string>(3, 1000);
    await expect(cache.get('k', 'v', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await cache.get('k', 'v', async () => 'fine')).toBe('fine');
  });
});
