import { basename, resolve } from 'node:path';
import type { CameraConfig } from '../config/schema.js';

/** What the camera adapter needs of the config (the mount is fusion's business). */
export type CameraSettings = Omit<CameraConfig, 'mount'>;
export type CameraSourceKind = CameraSettings['source'];

export interface FfmpegVersion {
  major: number;
  minor: number;
}

/** The version the argv targets when none was probed (Debian 12 / Raspberry Pi OS bookworm). */
export const DEFAULT_FFMPEG_VERSION: FfmpegVersion = { major: 5, minor: 1 };

/** A capture program whose video ffmpeg reads on its stdin. */
export interface Producer {
  command: string;
  args: string[];
  /**
   * The producer's file descriptor carrying the video. gst-launch and nvarguscamerasrc print progress
   * lines ("GST_ARGUS: …") on stdout, which would corrupt the stream, so the Jetson preset uses fd 3.
   */
  videoFd: 1 | 3;
}

export interface FfmpegPlan {
  producer: Producer | null;
  ffmpegArgs: string[];
  /** Bytes of one output frame: width·height·3. */
  frameBytes: number;
}

export interface PlanOptions {
  /** Recorded sources: start this far into the recording (resuming after a restart). */
  startMs?: number;
  /** v4l2: ask the camera for MJPEG (false once it refused, so ffmpeg picks a raw format). */
  v4l2Mjpeg?: boolean;
  version?: FfmpegVersion;
}

/** file and frames: frames carry ptsMs and the source can end. */
export function isRecorded(source: CameraSourceKind): boolean {
  return source === 'file' || source === 'frames';
}

/** Drop-newest (live) rather than backpressure: every live source, and recordings played in real time. */
export function dropsFrames(camera: Pick<CameraSettings, 'source' | 'realtime'>): boolean {
  return !isRecorded(camera.source) || camera.realtime;
}

/** `v4l2:/dev/video0`, `rtsp://cam/stream` (without credentials), `file:drive.mp4`, `frames:DIR`, `rpicam`, `jetson-csi`, `command:prog`. */
export function cameraName(camera: CameraSettings): string {
  switch (camera.source) {
    case 'v4l2':
      return `v4l2:${camera.device}`;
    case 'rtsp':
      return redactCredentials(camera.url ?? 'rtsp:?');
    case 'file':
    case 'frames':
      return `${camera.source}:${camera.path ?? '?'}`;
    case 'command':
      return `command:${basename(camera.command?.[0] ?? '?')}`;
    default:
      return camera.source;
  }
}

/** `rtsp://user:secret@cam/x` → `rtsp://user:***@cam/x`: ffmpeg repeats the URL in its errors, and those reach logs and the hub. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@/\s]+@/gi, '$1***@');
}

/** The capture program of the piped presets, null when ffmpeg reads the source itself. */
export function producerFor(camera: CameraSettings): Producer | null {
  const { width, height, fps } = camera;
  switch (camera.source) {
    case 'rpicam':
      // --flush: rpicam-vid otherwise leaves the tail of each JPEG in stdio's buffer until the next one.
      return { command: 'rpicam-vid', args: ['-t', '0', '-n', '--codec', 'mjpeg', '--width', `${width}`, '--height', `${height}`, '--framerate', `${fps}`, '--flush', '-o', '-'], videoFd: 1 };
    case 'jetson-csi':
      return {
        command: 'gst-launch-1.0',
        args: ['-q', 'nvarguscamerasrc', '!', `video/x-raw(memory:NVMM),width=${width},height=${height},framerate=${fraction(fps)}`, '!', 'nvjpegenc', '!', 'fdsink', 'fd=3'],
        videoFd: 3,
      };
    case 'command': {
      const [command, ...args] = camera.command ?? [];
      if (command === undefined) throw new Error('camera source "command" needs camera.command');
      return { command, args, videoFd: 1 };
    }
    default:
      return null;
  }
}

/**
 * ffmpeg's argv for a camera: decode whatever the source is, keep at most `fps` frames a second,
 * scale to width×height and write raw RGB24 frames to stdout. stderr carries only complaints.
 */
export function ffmpegPlan(camera: CameraSettings, options: PlanOptions = {}): FfmpegPlan {
  const version = options.version ?? DEFAULT_FFMPEG_VERSION;
  const { width, height, fps } = camera;
  const producer = producerFor(camera);
  const args = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', ...inputArgs(camera, options, version)];
  args.push('-map', '0:v:0');
  if (isRecorded(camera.source)) {
    // The fps filter puts frames on an exact 1/fps grid, so frame n is at n·1000/fps (ptsMs).
    args.push('-vf', `fps=${fps},scale=${width}:${height}`);
  } else {
    // Live: drop-only rate cap. The fps filter would fill a gap in the stream (a network or USB
    // hiccup) with copies of the last frame, stamped as new: stale pictures at the current position.
    args.push('-vf', `scale=${width}:${height}`, '-r', `${fps}`, ...(atLeast(version, 5, 1) ? ['-fps_mode', 'vfr'] : ['-vsync', 'vfr']));
  }
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');
  return { producer, ffmpegArgs: args, frameBytes: width * height * 3 };
}

function inputArgs(camera: CameraSettings, options: PlanOptions, version: FfmpegVersion): string[] {
  const { width, height, fps } = camera;
  const seek = options.startMs ? ['-ss', (options.startMs / 1000).toFixed(3)] : [];
  const realtime = camera.realtime ? ['-re'] : [];
  switch (camera.source) {
    case 'v4l2':
      // MJPEG lets a USB 2 camera deliver HD at full rate; a camera without it is retried without
      // -input_format (v4l2 then picks a raw format). An unsupported size or rate is adjusted by the
      // driver and scaled by ffmpeg.
      return ['-f', 'v4l2', ...(options.v4l2Mjpeg === false ? [] : ['-input_format', 'mjpeg']), '-framerate', `${fps}`, '-video_size', `${width}x${height}`, '-i', camera.device];
    case 'rtsp': {
      const url = camera.url ?? '';
      // Socket I/O timeout in µs; ffmpeg < 5 called it -stimeout (its -timeout made RTSP listen instead).
      const timeout = [atLeast(version, 5, 0) ? '-timeout' : '-stimeout', `${Math.round(camera.stallS * 1_000_000)}`];
      if (/^https?:/i.test(url)) return ['-timeout', `${Math.round(camera.stallS * 1_000_000)}`, '-i', url];
      return ['-rtsp_transport', 'tcp', ...timeout, '-i', url];
    }
    case 'file':
      return [...realtime, ...seek, '-i', resolve(camera.path ?? '')];
    case 'frames':
      return [...realtime, '-framerate', `${fps}`, ...seek, '-pattern_type', 'glob', '-i', `${escapeGlob(resolve(camera.path ?? ''))}/*.jpg`];
    case 'rpicam':
    case 'jetson-csi':
      // A pipe has no timestamps of its own: stamp arrival so the rate cap follows the real rate.
      return ['-use_wallclock_as_timestamps', '1', '-f', 'mjpeg', '-probesize', '32', '-i', 'pipe:0'];
    case 'command':
      // MJPEG or H.264, probed; a small probe starts the picture at once instead of after seconds of buffering.
      return ['-use_wallclock_as_timestamps', '1', '-probesize', '32', '-i', 'pipe:0'];
  }
}

function atLeast(version: FfmpegVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** glob(3) metacharacters in the folder name must not act as a pattern. */
function escapeGlob(path: string): string {
  return path.replace(/[*?[\]{}\\]/g, '\\$&');
}

/** 5 → 5/1, 2.5 → 5/2 (GStreamer caps want a fraction). */
export function fraction(fps: number): string {
  const den = 1000;
  const num = Math.round(fps * den);
  const g = gcd(num, den);
  return `${num / g}/${den / g}`;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Parses `ffmpeg -version`'s first line: `ffmpeg version 5.1.6-0+deb12u1 …`, `n6.1.1`; null for git builds (`N-112233-g…`). */
export function parseFfmpegVersion(text: string): FfmpegVersion | null {
  const m = /version\s+n?(\d+)\.(\d+)/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}
