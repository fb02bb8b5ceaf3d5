import { UserError } from '@roadwatch/shared';
import type { CameraSettings, CameraSourceKind } from './ffmpeg-args.js';
import { isDecodeComplaint } from './log-tail.js';

interface Hint {
  test: RegExp;
  /** Only for these sources; every source when absent. */
  sources?: readonly CameraSourceKind[];
  fix: (camera: CameraSettings) => string;
}

const NETWORK: readonly CameraSourceKind[] = ['rtsp'];
const PIPED: readonly CameraSourceKind[] = ['rpicam', 'jetson-csi', 'command'];

/** The first hint whose pattern matches, in this order, names the fix. */
const HINTS: readonly Hint[] = [
  { sources: ['v4l2'], test: /No such file or directory|No such device/, fix: () => 'check the camera is plugged in (ls /dev/video*) and camera.device' },
  { sources: ['v4l2'], test: /Permission denied/, fix: () => 'add the service user to group video (sudo usermod -aG video <user>) and restart the service' },
  { sources: ['v4l2'], test: /Device or resource busy/, fix: (c) => `another program is using the camera: find it with fuser -v ${c.device} and stop it` },
  { sources: ['v4l2'], test: /Inappropriate ioctl|Not a video capture device|not a capture device/i, fix: (c) => `${c.device} is not a capture device: pick one listed by v4l2-ctl --list-devices (usually the first of each camera)` },
  { sources: ['v4l2'], test: /Cannot find a proper format/, fix: () => 'the camera offers no format ffmpeg can use at this size: try another camera.width/height (v4l2-ctl --list-formats-ext)' },
  { sources: NETWORK, test: /Connection refused/, fix: () => 'nothing listens at that address: check the host and port in camera.url and that the camera has its stream enabled' },
  { sources: NETWORK, test: /timed out|No route to host|Network is unreachable|Host is unreachable/i, fix: () => 'the camera does not answer: check its power and network (ping it) and the host in camera.url' },
  { sources: NETWORK, test: /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname/i, fix: () => 'unknown host name: check camera.url or use the camera\'s IP address' },
  { sources: NETWORK, test: /401 Unauthorized|403 Forbidden|authori[sz]ation failed/i, fix: () => 'the camera refused the login: put the right user and password in camera.url (rtsp://user:password@host/path)' },
  { sources: NETWORK, test: /404 Not Found/, fix: () => 'wrong stream path in camera.url: the camera\'s manual or web page names it' },
  { sources: NETWORK, test: /Connection reset by peer|End of file/i, fix: () => 'the camera closed the stream: check its power and network; a camera allowing one viewer may be busy with another' },
  { sources: ['file'], test: /No such file or directory/, fix: () => 'check camera.path' },
  { sources: ['frames'], test: /No such file or directory|Could not open file/, fix: () => 'camera.path must be a folder holding .jpg files (sorted by name)' },
  { sources: ['file', 'frames'], test: /Permission denied/, fix: () => 'the service user may not read it: check the file permissions' },
  { sources: ['file', 'frames'], test: /Invalid data found when processing input|moov atom not found/, fix: (c) => `not a video ffmpeg can read (truncated or another format?): check it with ffprobe ${c.path ?? ''}` },
  { sources: ['rpicam'], test: /no cameras available/i, fix: () => 'no camera found: check the ribbon cable and that rpicam-hello --list-cameras lists it' },
  { sources: ['rpicam'], test: /failed to acquire camera|Device or resource busy/i, fix: () => 'another program is using the camera: stop it (only one may use a Pi camera at a time)' },
  { sources: ['jetson-csi'], test: /No cameras available|Failed to create CaptureSession/i, fix: () => 'no CSI camera: check the ribbon cable, then sudo systemctl restart nvargus-daemon' },
  { sources: ['jetson-csi'], test: /no element "nvarguscamerasrc"|no element "nvjpegenc"/, fix: () => 'NVIDIA\'s GStreamer plugins are missing: this preset needs a Jetson with JetPack (nvidia-l4t-gstreamer)' },
  { sources: PIPED, test: /Invalid data found when processing input|could not find codec parameters/i, fix: () => 'the capture command wrote no MJPEG or H.264 video on stdout: run it by hand and check its output' },
];

/** Lines ffmpeg prints as consequences, never as the cause. */
const CONSEQUENCE = /^(Conversion failed!|Output file #\d+ does not contain any stream|Exiting normally|Error opening (?:input|output) files?|Error writing trailer|av_interleaved_write_frame\(\)|Error closing file|Finishing stream|Nothing was written into output file)/;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExitFacts {
  camera: CameraSettings;
  name: string;
  ffmpeg: ChildExit;
  ffmpegLines: readonly string[];
  /** The capture program of the piped presets; `exit` null while it still ran when ffmpeg stopped. */
  producer: { command: string; exit: ChildExit | null; lines: readonly string[] } | null;
  /** True when the stream is not meant to end (any source but a recording). */
  live: boolean;
}

/** One line for a person: what went wrong in ffmpeg's (or the capture program's) own words, and what to do. */
export function explainExit(facts: ExitFacts): string {
  const { camera, name, producer } = facts;
  const producerFailed = producer?.exit && (producer.exit.code !== 0 || producer.exit.signal !== null);
  if (producer && producerFailed) {
    const reason = pickReason(producer.lines, camera.source) ?? `exited with ${describeExit(producer.exit as ChildExit)}`;
    return withFix(`camera ${name}: ${producer.command}: ${reason}`, reason, camera);
  }
  const reason = pickReason(facts.ffmpegLines, camera.source);
  if (facts.ffmpeg.code === 0 && facts.live) {
    const fix = PIPED.includes(camera.source) ? 'the capture command stopped writing video: run it by hand to see why' : 'the camera stopped sending: check its power and connection';
    return `camera ${name}: the stream ended${reason ? ` (ffmpeg: ${reason})` : ''} — ${fix}`;
  }
  if (reason) return withFix(`camera ${name}: ffmpeg: ${reason}`, reason, camera);
  return `camera ${name}: ffmpeg exited with ${describeExit(facts.ffmpeg)} and said nothing — run it by hand with the arguments logged at debug level to see why`;
}

const STALL_FIX: Record<CameraSettings['source'], string> = {
  v4l2: 'check the USB cable and power (dmesg shows USB resets)',
  rtsp: "check the camera's power and network",
  file: 'is the disk very slow or the file damaged?',
  frames: 'is the disk very slow?',
  rpicam: 'the camera stopped delivering: check the ribbon cable',
  'jetson-csi': 'the camera stopped delivering: check the cable; sudo systemctl restart nvargus-daemon helps after a crash',
  command: 'the capture command stopped writing video',
};

/** No frame for stallS: what the watchdog says when it restarts ffmpeg. */
export function explainStall(name: string, camera: CameraSettings, said: string | undefined): string {
  return `camera ${name}: no frame for ${camera.stallS} s${said ? ` (last message: ${said})` : ''} — restarting ffmpeg; ${STALL_FIX[camera.source]}`;
}

/** A program that could not be started at all (ENOENT, EACCES). */
export function explainSpawnError(name: string, command: string, error: NodeJS.ErrnoException, camera: CameraSettings): string {
  if (error.code === 'ENOENT') {
    const fix =
      camera.source === 'rpicam'
        ? 'install rpicam-apps (sudo apt install rpicam-apps); on Raspberry Pi OS before bookworm use source "command" with libcamera-vid'
        : camera.source === 'jetson-csi'
          ? 'install GStreamer\'s tools (sudo apt install gstreamer1.0-tools); the preset needs JetPack on a Jetson'
          : command === camera.ffmpegPath
            ? 'install it (apt install ffmpeg) or set camera.ffmpegPath'
            : 'check camera.command (the program must be on PATH or given with its full path)';
    return `camera ${name}: ${command} not found — ${fix}`;
  }
  if (error.code === 'EACCES') return `camera ${name}: ${command} is not executable — check its path and permissions (chmod +x)`;
  return `camera ${name}: cannot start ${command}: ${error.message}`;
}

/** The one case where `start()` rejects: without ffmpeg there is nothing to retry. */
export function ffmpegMissing(path: string, error: NodeJS.ErrnoException): UserError {
  if (error.code === 'EACCES') return new UserError(`ffmpeg at "${path}" is not executable: check camera.ffmpegPath and its permissions`);
  return new UserError(`ffmpeg not found at "${path}": install it (apt install ffmpeg) or set camera.ffmpegPath`);
}

export function describeExit(exit: ChildExit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** The line that says why: one a hint knows, else the last that is neither a decoder complaint nor a consequence. */
function pickReason(lines: readonly string[], source: CameraSourceKind): string | null {
  const candidates = lines.filter((l) => !isDecodeComplaint(l)).map(stripContext).filter((l) => !CONSEQUENCE.test(l));
  for (let i = candidates.length - 1; i >= 0; i--) {
    const line = candidates[i] as string;
    if (hintFor(line, source)) return line;
  }
  return candidates.at(-1) ?? null;
}

function withFix(text: string, reason: string, camera: CameraSettings): string {
  const hint = hintFor(reason, camera.source);
  return hint ? `${text} — ${hint.fix(camera)}` : text;
}

function hintFor(line: string, source: CameraSourceKind): Hint | undefined {
  return HINTS.find((h) => (h.sources === undefined || h.sources.includes(source)) && h.test.test(line));
}

/** `[video4linux2,v4l2 @ 0x5564…] Cannot open …` → `Cannot open …`. */
function stripContext(line: string): string {
  return line.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\]\s*/i, '').trim();
}
