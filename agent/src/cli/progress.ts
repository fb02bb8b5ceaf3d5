import type { TextSink } from './io.js';

const WIDTH = 28;
const MIN_INTERVAL_MS = 200;

/**
 * One self-rewriting line on a terminal (`[#####·····]  45%  123/270 frames  3 events`); nothing when
 * the stream is not a TTY, so logs and pipes stay clean. Written here rather than taken from a
 * package: it is one line of `\r` output, and the progress libraries bring their own terminal handling.
 */
export class ProgressLine {
  private lastDrawMs = -Infinity;
  private drawn = false;

  constructor(
    private readonly out: TextSink & { isTTY?: boolean },
    private readonly clock: () => number = Date.now,
  ) {}

  update(done: number, total: number | null, suffix: string, force = false): void {
    if (!this.out.isTTY) return;
    const now = this.clock();
    if (!force && now - this.lastDrawMs < MIN_INTERVAL_MS) return;
    this.lastDrawMs = now;
    this.drawn = true;
    this.out.write(`\r${renderProgress(done, total, suffix)}\x1b[K`);
  }

  /** Ends the line so what follows starts on a fresh one. */
  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

export function renderProgress(done: number, total: number | null, suffix: string): string {
  if (total === null || total <= 0) return `${done} ${suffix}`;
  const fraction = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'·'.repeat(WIDTH - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%  ${done}/${total} ${suffix}`;
}
