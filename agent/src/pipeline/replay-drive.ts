import { UserError, type EventBodyInput } from '@roadwatch/shared';
import type { Logger } from 'pino';
import type { FrameSource } from '../camera/frame-source.js';
import type { Detector } from '../detect/detector.js';
import type { Fusion } from '../fusion/index.js';
import type { Fix } from '../gps/fix.js';
import { Sensing, type SensingStats } from './sensing.js';

export interface ReplayDriveOptions {
  /** A recorded source (file or frames), started here. */
  camera: FrameSource;
  /** The drive's fixes in time order (see readRecordedFixes). */
  fixes: readonly Fix[];
  /** GPS time of the recording's first frame, ms. */
  startMs: number;
  detector: Detector;
  fusion: Fusion;
  emit: (events: EventBodyInput[]) => void;
  logger: Logger;
  onFrame?: (progress: ReplayProgress) => void;
  /** Stops the replay early (Ctrl-C): what was detected so far is still flushed. */
  signal?: AbortSignal;
}

export interface ReplayProgress {
  frames: number;
  /** Time into the recording of the last frame, ms. */
  ptsMs: number;
  events: number;
}

/**
 * The full sensing pipeline over a recorded drive: frames from ffmpeg (file or JPEG folder), fixes
 * from the NMEA log released up to each frame's time — as a receiver would have delivered them —
 * then detector, fusion, and the events handed to `emit`.
 */
export async function replayDrive(options: ReplayDriveOptions): Promise<SensingStats> {
  const { camera, fixes, startMs } = options;
  const sensing = new Sensing({
    detector: options.detector,
    fusion: options.fusion,
    logger: options.logger,
    emit: options.emit,
    frameClock: (frame) => ({ tMs: startMs + (frame.ptsMs ?? 0), clock: 'gps' }),
  });
  let nextFix = 0;
  let lastPtsMs = 0;
  const releaseFixesUntil = (tMs: number) => {
    while (nextFix < fixes.length && Date.parse(fixes[nextFix]!.time!) <= tMs) sensing.onFix(fixes[nextFix++]!);
  };
  await camera.start((frame) => {
    lastPtsMs = frame.ptsMs ?? lastPtsMs;
    releaseFixesUntil(startMs + lastPtsMs);
    const submitted = sensing.sink(frame);
    options.onFrame?.({ frames: sensing.stats().framesIn, ptsMs: lastPtsMs, events: sensing.stats().eventsEmitted });
    return submitted;
  });
  const aborted = new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  // A recording that ffmpeg cannot read will not get better by retrying: the replay fails with its words.
  let unsubscribe = () => {};
  const failed = new Promise<never>((_, reject) => {
    unsubscribe = camera.onStatus((status) => {
      if (status.state === 'fault') reject(new UserError(`cannot replay ${camera.name}: ${status.lastError ?? status.message}`));
    });
  });
  try {
    await Promise.race([camera.ended(), aborted, failed]);
  } finally {
    unsubscribe();
    await camera.stop();
  }
  // The fixes after the last frame settle the tracks that ended with it.
  releaseFixesUntil(Infinity);
  await sensing.flush();
  return sensing.stats();
}
