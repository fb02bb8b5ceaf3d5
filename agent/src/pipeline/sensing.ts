import type { ClockSource, EventBodyInput } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { Frame, FrameSink } from '../camera/frame-source.js';
import type { DetectResult, Detector } from '../detect/detector.js';
import { fixSampleFromGps, type Fusion, type FusionStats } from '../fusion/index.js';
import type { Fix } from '../gps/fix.js';
import { DetectStage, type DetectStageStats, type DetectedFrame } from './detect-stage.js';

/** A frame's time on the GPS time base (the fixes'), or null when it cannot be known yet. */
export type FrameClock = (frame: Frame) => { tMs: number; clock: ClockSource } | null;

export interface SensingOptions {
  detector: Detector;
  fusion: Fusion;
  frameClock: FrameClock;
  /** Receives the events fusion releases (the agent appends them to the outbox). */
  emit: (events: EventBodyInput[]) => void;
  logger: Logger;
  /** Frames in detection at once (see DetectStage). */
  depth?: number;
  /** Sees every detector result (metrics: inference latency, detections per class); must be cheap. */
  onDetected?: (result: DetectResult) => void;
}

export interface SensingStats {
  framesIn: number;
  /** Frames that arrived before any GPS time was known: not detected (they could not be placed). */
  framesWithoutTime: number;
  fixesIn: number;
  /** Fixes without a date or position: fusion cannot use them. */
  fixesUnusable: number;
  eventsEmitted: number;
  detect: DetectStageStats;
  fusion: FusionStats;
}

/**
 * Frames and fixes in, events out: detector then fusion, in frame order. Knows nothing of where
 * frames and fixes come from (a live camera and receiver, or a recorded drive).
 */
export class Sensing {
  private readonly stage: DetectStage;
  private readonly times = new WeakMap<Frame, { tMs: number; clock: ClockSource }>();
  private readonly counters = { framesIn: 0, framesWithoutTime: 0, fixesIn: 0, fixesUnusable: 0, eventsEmitted: 0 };
  private readonly log: Logger;

  constructor(private readonly options: SensingOptions) {
    this.log = options.logger.child({ module: 'sensing' });
    this.stage = new DetectStage({ detector: options.detector, logger: this.log, depth: options.depth, onResult: (detected) => this.fuse(detected) });
  }

  onFix(fix: Fix): void {
    this.counters.fixesIn++;
    const sample = fixSampleFromGps(fix);
    if (!sample) {
      this.counters.fixesUnusable++;
      return;
    }
    this.options.fusion.onFix(sample);
  }

  /** The camera's sink: stamps the frame and submits it for detection. */
  readonly sink: FrameSink = (frame) => {
    this.counters.framesIn++;
    const time = this.options.frameClock(frame);
    if (!time) {
      this.counters.framesWithoutTime++;
      return;
    }
    this.times.set(frame, time);
    return this.stage.submit(frame);
  };

  /** End of input: waits for frames in detection, then releases every track that is still open. */
  async flush(): Promise<void> {
    await this.stage.drain();
    this.release(this.options.fusion.flush());
  }

  stats(): SensingStats {
    return { ...this.counters, detect: this.stage.stats(), fusion: this.options.fusion.stats() };
  }

  private fuse({ frame, result }: DetectedFrame): void {
    this.options.onDetected?.(result);
    const time = this.times.get(frame)!;
    this.release(this.options.fusion.onFrame({ tMs: time.tMs, clock: time.clock, detections: result.detections, frame: result.frame }));
  }

  private release(events: EventBodyInput[]): void {
    if (events.length === 0) return;
    this.counters.eventsEmitted += events.length;
    this.options.emit(events);
  }
}
