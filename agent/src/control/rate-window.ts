/**
 * A rate over the last `windowMs` from a running counter sampled now and then (the camera's
 * framesIn, sampled once a second): no per-frame work.
 */
export class RateWindow {
  private readonly samples: Array<{ at: number; count: number }> = [];

  constructor(private readonly windowMs = 10_000) {}

  /** Records the counter's value at monotonic time `at` (ms). A counter that went back (a new source) starts over. */
  sample(at: number, count: number): void {
    const last = this.samples.at(-1);
    if (last && count < last.count) this.samples.length = 0;
    this.samples.push({ at, count });
    // Keep one sample at or before the window start so the rate covers the whole window.
    while (this.samples.length > 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
  }

  /** Events per second over the window ending at `at` (the newest sample when not given); null with fewer than two samples. */
  rate(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return null;
    return ((last.count - first.count) * 1000) / (last.at - first.at);
  }

  /** Seconds the rate is measured over. */
  spanS(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    return first && last ? (last.at - first.at) / 1000 : 0;
  }

  reset(): void {
    this.samples.length = 0;
  }
}
