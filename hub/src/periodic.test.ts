import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryLogger } from './broker/testing/harness.js';
import { startPeriodic } from './periodic.js';

describe('startPeriodic', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs every interval, never two runs at once, logs failures, and stop waits for the run in progress', async () => {
    const { logger, lines } = memoryLogger();
    let runs = 0;
    let release: (() => void) | null = null;
    const task = vi.fn(async () => {
      runs += 1;
      if (runs === 2) throw new Error('db down');
      if (runs === 3) await new Promise<void>((r) => (release = r));
    });
    const periodic = startPeriodic(task, 1000, logger, 'alarm rules');
    expect(task).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
    expect(lines.find((l) => l.msg === 'alarm rules failed; retrying at the next tick')).toBeDefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(3); // this run hangs until released
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(3); // ticks while it runs are skipped
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release!();
    await stopping;
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(3);
  });
});
