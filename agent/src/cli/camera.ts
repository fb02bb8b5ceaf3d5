import { statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatZodIssues, UserError } from '@roadwatch/shared';
import { createCamera } from '../camera/index.js';
import { frameToJpeg } from '../camera/jpeg.js';
import type { CameraStatus, Frame } from '../camera/frame-source.js';
import { CameraConfigSchema, type CameraConfig } from '../config/schema.js';
import { createLogger } from '../logger.js';
import { ControlClient } from '../control/client.js';
import type { AgentStatus } from '../control/status.js';
import { loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface CameraOptions {
  config?: string;
  source?: CameraConfig['source'];
  device?: string;
  url?: string;
  path?: string;
  frames?: number;
  snapshot?: string;
  json?: boolean;
  /** Open the camera even when the service runs (it then fails: the service holds the device). */
  direct?: boolean;
}

const SOURCES = CameraConfigSchema.shape.source.options;

/** Registers `roadwatch camera` (called from program.ts). */
export function addCameraCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('camera')
    .description('check the camera: open it as configured (or as the options say), wait for frames, print the measured fps, frame size, drops and errors; no device credentials needed')
    .addOption(new Option('--source <kind>', 'camera source (default: camera.source, or guessed from --device/--url/--path)').choices(SOURCES))
    .option('--device <dev>', 'V4L2 device, e.g. /dev/video0 (implies --source v4l2)')
    .option('--url <url>', 'network camera, rtsp://… or http://… MJPEG (implies --source rtsp)')
    .option('--path <path>', 'a video file, or a folder of .jpg frames (implies --source file or frames)')
    .option('--frames <n>', 'stop after n frames (default 10)', parsePositiveInt)
    .option('--snapshot <file.jpg>', 'write the last frame as a JPEG (to see what the camera sees)')
    .option('--json', 'print the result as one JSON object')
    .option('--direct', 'open the camera even when the service runs (by default the running service is asked: it holds the camera)')
    .addHelpText(
      'after',
      '\nWhen the service runs (and no --source/--device/--url/--path is given) its camera is reported and --snapshot is its newest frame.\nExit code: 0 frames arrived, 1 frames arrived but the camera failed before --frames, 2 no frame (the message says what to fix).',
    )
    .action(async (_opts, cmd: Command) => {
      setExitCode(await cameraCommand(cmd.optsWithGlobals<CameraOptions>(), io));
    });
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n <= 0) throw new InvalidArgumentError('must be a positive whole number, e.g. 10');
  return n;
}

type Outcome = 'enough' | 'ended' | 'failed' | 'interrupted' | 'service';

interface Result {
  camera: string;
  /** enough: --frames arrived; ended: a recording ended first; failed: the camera faulted or stalled; interrupted: Ctrl-C; service: asked the running service. */
  outcome: Outcome;
  frames: number;
  seconds: number;
  fps: number | null;
  width: number;
  height: number;
  framesDropped: number;
  decodeErrors: number;
  restarts: number;
  lastError: string | null;
  snapshot: string | null;
}

/** What arrived while the command watched the camera. */
interface Watch {
  frames: number;
  first: Frame | null;
  last: Frame | null;
  /** The message of the first fault or stall. */
  failure: string | null;
}

/** `roadwatch camera`: exit 0 when frames arrived, 1 when they stopped before --frames, 2 when none came. */
export async function cameraCommand(options: CameraOptions, io: CliIo): Promise<number> {
  if (options.snapshot !== undefined && !/^\.jpe?g$/i.test(extname(options.snapshot))) throw new UserError(`--snapshot ${options.snapshot}: the snapshot is a JPEG`, 'name it something.jpg');
  const config = loadFieldConfig(options.config, io.env);
  const named = [options.source, options.device, options.url, options.path].some((o) => o !== undefined);
  if (!options.direct && !named) {
    const client = ControlClient.forConfig(config);
    const status = await client.statusIfRunning();
    if (status) return fromService(status, client, options, io);
  }
  const settings = cameraSettings(config.camera, options);
  const debug = config.logLevel === 'debug' || config.logLevel === 'trace';
  const logger = createLogger({ level: debug ? config.logLevel : 'silent', destination: io.stderr });
  const camera = createCamera(settings, { logger });
  const want = options.frames ?? 10;

  const watch: Watch = { frames: 0, first: null, last: null, failure: null };
  let finish: (outcome: Outcome) => void = () => {};
  const done = new Promise<Outcome>((resolve) => (finish = resolve));
  camera.onStatus((status) => {
    if (status.state === 'fault' || status.state === 'stalled') {
      watch.failure ??= status.message;
      finish('failed');
    }
    if (status.state === 'ended') finish('ended');
  });
  const interrupt = () => finish('interrupted');
  io.signals.on('SIGINT', interrupt);
  io.signals.on('SIGTERM', interrupt);
  let outcome: Outcome;
  try {
    await camera.start((frame) => {
      watch.frames += 1;
      watch.first ??= frame;
      watch.last = frame;
      if (watch.frames >= want) finish('enough');
    });
    if (!options.json) io.stderr.write(`reading ${camera.name} (${want} frames) — Ctrl-C to stop\n`);
    outcome = await done;
  } finally {
    io.signals.off('SIGINT', interrupt);
    io.signals.off('SIGTERM', interrupt);
    await camera.stop();
  }

  const status = camera.status();
  const failure = outcome === 'failed' ? watch.failure : null;
  const snapshot = options.snapshot !== undefined && watch.last ? await writeSnapshot(watch.last, options.snapshot) : null;
  const seconds = watch.first && watch.last ? (watch.last.monoMs - watch.first.monoMs) / 1000 : 0;
  const result: Result = {
    camera: camera.name,
    outcome,
    frames: watch.frames,
    seconds: Math.round(seconds * 1000) / 1000,
    fps: watch.frames > 1 && seconds > 0 ? Math.round(((watch.frames - 1) / seconds) * 100) / 100 : null,
    width: settings.width,
    height: settings.height,
    framesDropped: status.framesDropped,
    decodeErrors: status.decodeErrors,
    restarts: status.restarts,
    lastError: failure ?? status.lastError,
    snapshot,
  };
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    if (watch.frames > 0) io.stdout.write(`${summary(result)}\n`);
    if (snapshot) io.stdout.write(`snapshot: ${snapshot}\n`);
    if (failure) io.stderr.write(`${failure}\n`);
    else if (watch.frames === 0) io.stderr.write(`camera ${camera.name}: stopped before the first frame arrived (a network camera may take seconds to connect)\n`);
  }
  if (watch.frames === 0) return 2;
  return failure ? 1 : 0;
}

/** The service holds the camera: report its camera, and take the snapshot from its newest frame. */
async function fromService(status: AgentStatus, client: ControlClient, options: CameraOptions, io: CliIo): Promise<number> {
  const camera = status.camera;
  if (!camera) throw new UserError('the running service has no camera configured', 'set "camera" in its config (docs/CAMERA.md), or pass --device, --url or --path to open one directly');
  let snapshot: string | null = null;
  if (options.snapshot !== undefined) {
    const res = await client.request('GET', '/camera/snapshot');
    if (res.status !== 200) {
      let reason = `HTTP ${res.status}`;
      try {
        reason = (JSON.parse(res.body.toString('utf8')) as { error: { message: string } }).error.message;
      } catch {
        // keep the status
      }
      if (!options.json) io.stderr.write(`no snapshot: ${reason}\n`);
    } else {
      try {
        await writeFile(options.snapshot, res.body);
      } catch (error) {
        throw new UserError(`cannot write the snapshot ${options.snapshot}: ${(error as Error).message}`, 'pass a path in a folder you can write to');
      }
      snapshot = options.snapshot;
    }
  }
  const result: Result = {
    camera: camera.name,
    outcome: 'service',
    frames: camera.framesIn,
    seconds: camera.fpsWindowS,
    fps: camera.fps,
    width: camera.width,
    height: camera.height,
    framesDropped: camera.framesDropped,
    decodeErrors: camera.decodeErrors,
    restarts: camera.restarts,
    lastError: camera.lastError,
    snapshot,
  };
  const failing = camera.state !== 'ok';
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ...result, state: camera.state, message: camera.message })}\n`);
  } else {
    io.stderr.write(`the service runs: asking it (it holds ${camera.name})\n`);
    const fps = camera.fps === null ? 'fps not measured yet' : `${camera.fps.toFixed(1)} fps over the last ${camera.fpsWindowS} s`;
    io.stdout.write(`${camera.name}: ${camera.state}, ${fps}, ${camera.width}×${camera.height} RGB, ${camera.framesIn} frames, ${camera.framesDropped} dropped, ${camera.decodeErrors} decoder errors, ${camera.restarts} restarts\n`);
    if (snapshot) io.stdout.write(`snapshot: ${snapshot} (the service's newest frame)\n`);
    if (failing) io.stderr.write(`${camera.message}\n`);
  }
  if (camera.framesIn === 0) return 2;
  return failing ? 1 : 0;
}

/** The configured camera with the command line's overrides; a --device, --url or --path alone picks its source. */
export function cameraSettings(configured: CameraConfig | null, options: CameraOptions): CameraConfig {
  const overrides = { device: options.device, url: options.url, path: options.path };
  const source = options.source ?? guessSource(options) ?? configured?.source;
  if (source === undefined) {
    throw new UserError('no camera configured', 'set "camera" in the config file (docs/CAMERA.md), or pass --device /dev/video0, --url rtsp://…, --path FILE or --source');
  }
  const input = { ...(configured ?? {}), ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)), source };
  const parsed = CameraConfigSchema.safeParse(input);
  if (!parsed.success) throw new UserError(`camera settings:\n${formatZodIssues(parsed.error, '  camera.').join('\n')}`, 'pass the missing option (--device, --url, --path) or fix the config file');
  return parsed.data;
}

function guessSource(options: CameraOptions): CameraConfig['source'] | undefined {
  const given = [options.device && 'v4l2', options.url && 'rtsp', options.path && (isDirectory(options.path) ? 'frames' : 'file')].filter(Boolean);
  return given.length === 1 ? (given[0] as CameraConfig['source']) : undefined;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function summary(r: Result): string {
  const parts = [
    `${r.frames} frame${r.frames === 1 ? '' : 's'} in ${r.seconds.toFixed(1)} s${r.fps === null ? '' : ` (${r.fps.toFixed(1)} fps)`}`,
    `${r.width}×${r.height} RGB`,
    `${r.framesDropped} dropped`,
    `${r.decodeErrors} decoder errors`,
    `${r.restarts} restarts`,
  ];
  return `${r.camera}: ${parts.join(', ')}`;
}

async function writeSnapshot(frame: Frame, file: string): Promise<string> {
  try {
    await writeFile(file, await frameToJpeg(frame));
  } catch (error) {
    throw new UserError(`cannot write the snapshot ${file}: ${(error as Error).message}`, 'pass a path in a folder you can write to');
  }
  return file;
}
