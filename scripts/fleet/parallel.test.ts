import { describe, expect, it } from 'vitest';
import { inParallel } from './parallel.js';

describe('inParallel', () => {
  it('starts every item in order with at most `concurrency` pending', async () => {
    let pending = 0;
    let most = 0;
    const started: number[] = [];
    await inParallel([...Array(20).keys()], 3, async (i) => {
      started.push(i);
      most = Math.max(most, ++pending);
      await new Promise((r) => setTimeout(r, 1 + (i % 4)));
      pending--;
    });
    expect(started).toEqual([...Array(20).keys()]);
    expect(most).toBe(3);
  });

  it('rejects with the first failure', async () => {
    await expect(inParallel([1, 2, 3], 2, async (i) => {
      if (i === 2) throw new Error('two failed');
    })).rejects.toThrow('two failed');
  });
});
