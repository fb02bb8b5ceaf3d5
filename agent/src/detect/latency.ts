import type { LatencySummary } from './detector.js';

/** p50/p95 of the last `size` detect steps; `count` and `failures` since start. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  private count = 0;
  private failures = 0;

  constructor(size = 256) {
    this.samples = new Float64Array(size);
  }

  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    this.filled = Math.min(this.filled + 1, this.samples.length);
    this.count++;
  }

  fail(): void {
    this.failures++;
  }

  summary(): LatencySummary {
    if (!this.filled) return { count: this.count, failures: this.failures, p50Ms: null, p95Ms: null };
    const sorted = this.samples.slice(0, this.filled).sort();
    return { count: this.count, failures: this.failures, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) };
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}
