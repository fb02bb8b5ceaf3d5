import type { Logger } from 'pino';
import type { Frame } from '../camera/frame-source.js';
import type { DetectResult, Detector } from '../detect/detector.js';

export interface DetectedFrame {
  frame: Frame;
  result: DetectResult;
}

export interface DetectStageOptions {
  detector: Detector;
  /** Called with each frame's result in frame order (a failed frame is skipped, not reordered). */
  onResult: (detected: DetectedFrame) => void;
  logger: Logger;
  /**
   * Frames in detection at once. Two lets the next frame's decode and letterbox (libvips threads)
   * overlap the worker's inference; more only adds latency.
   */
  depth?: number;
}

export interface DetectStageStats {
  submitted: number;
  detected: number;
  failed: number;
  inFlight: number;
  lastError: string | null;
}

/** Failures logged at most this often (a camera sending garbage would otherwise flood the journal). */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Runs frames through the detector, up to `depth` at once, and hands results on in frame order.
 * `submit` resolves when a slot is free again: a live camera drops frames while it is pending, a
 * recorded one waits — so the stage never holds more than `depth` frames.
 */
export class DetectStage {
  private readonly depth: number;
  private readonly pending: Promise<DetectedFrame | null>[] = [];
  private readonly slotWaiters: (() => void)[] = [];
  private delivering: Promise<void> = Promise.resolve();
  private readonly counters = { submitted: 0, detected: 0, failed: 0 };
  private lastError: string | null = null;
  private lastFailureLogMs = -Infinity;

  constructor(private readonly options: DetectStageOptions) {
    this.depth = options.depth ?? 2;
  }

  async submit(frame: Frame): Promise<void> {
    this.counters.submitted++;
    const job = this.options.detector.detect({ data: frame.rgb, width: frame.width, height: frame.height, channels: 3 }).then(
      (result) => ({ frame, result }),
      (error: unknown) => {
        this.fail(frame, error);
        return null;
      },
    );
    this.pending.push(job);
    // Results are handed on strictly in submission order, whichever finishes first.
    this.delivering = this.delivering.then(async () => {
      const detected = await job;
      this.pending.shift();
      this.slotWaiters.shift()?.();
      if (!detected) return;
      this.counters.detected++;
      try {
        this.options.onResult(detected);
      } catch (error) {
        this.options.logger.error({ err: error, seq: frame.seq }, 'handling a detected frame failed; the pipeline goes on');
      }
    });
    if (this.pending.length >= this.depth) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
  }

  /** Resolves when every submitted frame has been handed on. */
  async drain(): Promise<void> {
    let current: Promise<void>;
    do {
      current = this.delivering;
      await current;
    } while (current !== this.delivering);
  }

  stats(): DetectStageStats {
    return { ...this.counters, inFlight: this.pending.length, lastError: this.lastError };
  }

  private fail(frame: Frame, error: unknown): void {
    this.counters.failed++;
    this.lastError = error instanceof Error ? error.message : String(error);
    if (frame.monoMs - this.lastFailureLogMs >= FAILURE_LOG_INTERVAL_MS) {
      this.lastFailureLogMs = frame.monoMs;
      this.options.logger.warn({ seq: frame.seq, failed: this.counters.failed }, `frame skipped: ${this.lastError}`);
    }
  }
}
