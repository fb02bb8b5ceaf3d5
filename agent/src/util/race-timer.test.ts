import { describe, expect, it } from 'vitest';
import { raceTimer } from './race-timer.js';

describe('raceTimer', () => {
  it('settles with the promise when it is first', async () => {
    await expect(raceTimer(Promise.resolve(7), 1_000, () => 0)).resolves.toBe(7);
    await expect(raceTimer(Promise.reject(new Error('boom')), 1_000, () => 0)).rejects.toThrow('boom');
    await expect(raceTimer(Promise.reject('text'), 1_000, () => 0)).rejects.toThrow('text');
  });

  it('falls back, or rejects with what onTimeout throws, when the promise is late', async () => {
    const never = new Promise<number>(() => {});
    await expect(raceTimer(never, 5, () => -1)).resolves.toBe(-1);
    await expect(
      raceTimer(never, 5, () => {
        throw new Error('late');
      }),
    ).rejects.toThrow('late');
  });
});
