import { readdir, stat } from 'node:fs/promises';
import { UserError, type RoadEvent } from '@roadwatch/shared';
import { createCamera } from '../camera/index.js';
import { CameraConfigSchema, type CameraConfig } from '../config/schema.js';
import { createOnnxDetector } from '../detect/index.js';
import { modelStamp } from '../pipeline/model-stamp.js';
import { Fusion } from '../fusion/index.js';
import { createLogger } from '../logger.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { chooseStart, ffprobeBeside, videoCreationTimeMs, videoDurationMs } from '../pipeline/recording-start.js';
import { firstFixTimeMs, readRecordedFixes } from '../pipeline/recorded-fixes.js';
import { replayDrive } from '../pipeline/replay-drive.js';
import type { SensingStats } from '../pipeline/sensing.js';
import { fieldLogLevel, loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';
import { ProgressLine } from './progress.js';

export interface ReplayDriveCliOptions {
  video?: string;
  frames?: string;
  nmea?: string;
  start?: string;
  fps?: number;
  realtime?: boolean;
  json?: boolean;
  config?: string;
}

/** `roadwatch replay --video|--frames --nmea`: the full pipeline over a recorded drive into the outbox. */
export async function replayDriveCommand(options: ReplayDriveCliOptions, io: CliIo): Promise<number> {
  if ((options.video === undefined) === (options.frames === undefined)) throw new UserError('give one of --video FILE and --frames DIR', 'with --nmea FILE for the drive’s GPS log');
  if (options.nmea === undefined) throw new UserError('--nmea FILE is required with --video/--frames', 'a drive is placed on the map from its GPS log');
  const config = loadFieldConfig(options.config, io.env);
  const recording = (options.video ?? options.frames)!;
  const frameCount = options.frames !== undefined ? await countJpegs(options.frames) : null;
  if (options.video !== undefined) await assertFile(options.video, 'video');
  const camera = cameraFor(config.camera, options);
  const ffprobe = ffprobeBeside(camera.ffmpegPath);

  const recorded = await readRecordedFixes(options.nmea);
  if (recorded.fixes.length === 0) {
    throw new UserError(`NMEA log ${options.nmea} has no fix with a date (${recorded.stats.sentences} good sentences, ${recorded.stats.checksumErrors} checksum errors)`, 'a log needs RMC or ZDA sentences to be placed in time');
  }
  const start = chooseStart({
    option: options.start === undefined ? null : parseStart(options.start),
    video: options.video !== undefined ? await videoCreationTimeMs(options.video, ffprobe) : null,
    nmea: firstFixTimeMs(recorded),
  })!;
  const totalFrames = frameCount ?? (options.video !== undefined ? estimateFrames(await videoDurationMs(options.video, ffprobe), camera.fps) : null);

  const logger = createLogger({ level: fieldLogLevel(config.logLevel), destination: io.stderr });
  const detector = await createOnnxDetector(config.detector, { logger });
  const outbox = SqliteOutbox.forConfig(config, { logger, clock: io.clock });
  const stored: RoadEvent[] = [];
  const progress = new ProgressLine(io.stderr as never, io.clock);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  io.signals.on('SIGINT', onSignal);
  const started = performance.now();
  let firstFrameAt: number | null = null;
  let stats: SensingStats;
  try {
    stats = await replayDrive({
      camera: createCamera(camera, { logger }),
      fixes: recorded.fixes,
      startMs: start.ms,
      detector,
      fusion: new Fusion({ camera: camera.mount, model: modelStamp(detector.info) }),
      emit: (events) => stored.push(...outbox.append(events)),
      logger,
      signal: abort.signal,
      onFrame: (p) => {
        firstFrameAt ??= performance.now();
        progress.update(p.frames, totalFrames, `frames  ${p.events} events`);
      },
    });
  } finally {
    io.signals.off('SIGINT', onSignal);
    progress.done();
    outbox.close();
    await detector.close();
  }
  const ended = performance.now();
  const seconds = (ended - started) / 1000;
  // From the first frame on: the steady rate, without ffmpeg's start-up.
  const streamSeconds = firstFrameAt === null ? seconds : (ended - firstFrameAt) / 1000;
  const summary = {
    recording,
    nmea: options.nmea,
    outbox: outbox.path,
    start: new Date(start.ms).toISOString(),
    startFrom: start.source,
    interrupted: abort.signal.aborted,
    seconds: Math.round(seconds * 100) / 100,
    fps: Math.round((stats.detect.detected / seconds) * 100) / 100,
    streamFps: Math.round((stats.detect.detected / streamSeconds) * 100) / 100,
    frames: stats.framesIn,
    framesDetected: stats.detect.detected,
    framesFailed: stats.detect.failed,
    framesWithoutPosition: stats.fusion.framesWithoutPosition,
    framesWhileStationary: stats.fusion.framesWhileStationary,
    fixes: recorded.fixes.length,
    nmeaChecksumErrors: recorded.stats.checksumErrors,
    detections: stats.fusion.detections,
    events: stored.length,
    eventsByClass: countBy(stored.map((e) => e.class)),
    suppressed: { tooFewHits: stats.fusion.suppressedTooFewHits, duplicates: stats.fusion.suppressedDuplicates, noPosition: stats.fusion.droppedNoPosition },
    model: modelStamp(detector.info),
    /** Peak resident memory of this process (the agent's pipeline; ffmpeg runs beside it). */
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ...summary, eventList: stored.map(({ eventId, seq, ts, class: cls, lat, lon, confidence, hits, accuracyM }) => ({ eventId, seq, ts, class: cls, lat, lon, confidence, hits, accuracyM })) })}\n`);
  } else {
    const byClass = Object.entries(summary.eventsByClass).map(([c, n]) => `${c} ${n}`).join(', ') || 'none';
    io.stdout.write(
      [
        `replayed ${summary.frames} frames of ${recording} in ${summary.seconds.toFixed(1)} s (${summary.fps.toFixed(1)} frames/s), GPS from ${options.nmea} (${summary.fixes} fixes; start ${summary.start} from the ${start.source})`,
        `${summary.detections} detections → ${summary.events} events into ${outbox.path} (${byClass})`,
        ...(summary.framesFailed > 0 ? [`${summary.framesFailed} frames could not be read and were skipped: ${stats.detect.lastError}`] : []),
        ...(summary.framesWithoutPosition > 0 ? [`${summary.framesWithoutPosition} frames had no GPS position and placed nothing`] : []),
        ...(summary.interrupted ? ['interrupted: events found so far were kept'] : []),
      ].join('\n') + '\n',
    );
  }
  return 0;
}

function cameraFor(configured: CameraConfig | null, options: ReplayDriveCliOptions): CameraConfig {
  const base = configured ? { fps: configured.fps, width: configured.width, height: configured.height, ffmpegPath: configured.ffmpegPath, mount: configured.mount } : {};
  return CameraConfigSchema.parse({
    ...base,
    ...(options.fps !== undefined ? { fps: options.fps } : {}),
    source: options.video !== undefined ? 'file' : 'frames',
    path: options.video ?? options.frames,
    realtime: options.realtime === true,
  });
}

function parseStart(value: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UserError(`--start ${value} is not a time`, 'use ISO 8601 such as 2026-11-22T08:00:00Z');
  return ms;
}

async function assertFile(path: string, what: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new UserError(`${what} ${path} is not a file`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${what} ${path} not found`, 'check the path');
  }
}

async function countJpegs(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new UserError(`frames folder ${dir} not found`, 'give the folder holding the drive’s JPEG frames');
  }
  const count = names.filter((n) => /\.jpe?g$/i.test(n)).length;
  if (count === 0) throw new UserError(`frames folder ${dir} holds no .jpg files`, 'give the folder holding the drive’s JPEG frames');
  return count;
}

function estimateFrames(durationMs: number | null, fps: number): number | null {
  return durationMs === null ? null : Math.round((durationMs / 1000) * fps);
}

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
