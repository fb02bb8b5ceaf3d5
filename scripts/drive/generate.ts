// Renders a simulated drive for replaying through the agent and scoring (docs/DRIVE-SIM.md).
//   npm run drive:sim -- --out DIR [--seed N] [--length-m 600] [--speed-kmh 50] [--fps 5] [--gps-hz 1]
//     [--width 1280 --height 720] [--defects N] [--video] [--stop-s 0 [--stop-at-m M]] [--gps-noise-m 0]
//     [--start 2026-11-22T08:00:00Z] [--lat 52.09 --lon 5.12 --heading 60] [--forward-m 0]
//     [--weather sun|overcast|wet|haze] [--workers N]
// Writes DIR/frames/000001.jpg …, DIR/drive.nmea, DIR/truth.json and with --video DIR/drive.mkv.
import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WEATHERS, type Weather } from '../../models/scene/conditions.js';
import { writeNmea } from './nmea.js';
import { renderFrames, type RenderProgress } from './render.js';
import { simulateDrive, type DriveOptions } from './simulate.js';
import { makeTruth, NMEA_FILE, TRUTH_FILE, VIDEO_FILE } from './truth.js';

interface Args {
  out: string;
  drive: DriveOptions;
  video: boolean;
  workers: number;
  talker: 'GN' | 'GP';
}

const USAGE = `usage: npm run drive:sim -- --out DIR [--seed N] [--length-m 600] [--speed-kmh 50] [--fps 5] [--gps-hz 1]
  [--width 1280 --height 720] [--defects N] [--video] [--stop-s 0 [--stop-at-m M]] [--gps-noise-m 0]
  [--start 2026-11-22T08:00:00Z] [--lat 52.09 --lon 5.12 --heading 60] [--forward-m 0] [--weather sun|overcast|wet|haze]
  [--talker GN|GP] [--workers N]`;

function parseCli(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      'length-m': { type: 'string', default: '600' },
      'speed-kmh': { type: 'string', default: '50' },
      fps: { type: 'string', default: '5' },
      'gps-hz': { type: 'string', default: '1' },
      width: { type: 'string', default: '1280' },
      height: { type: 'string', default: '720' },
      defects: { type: 'string' },
      video: { type: 'boolean', default: false },
      'stop-s': { type: 'string', default: '0' },
      'stop-at-m': { type: 'string' },
      'gps-noise-m': { type: 'string', default: '0' },
      start: { type: 'string', default: '2026-11-22T08:00:00Z' },
      lat: { type: 'string' },
      lon: { type: 'string' },
      heading: { type: 'string' },
      'forward-m': { type: 'string' },
      weather: { type: 'string' },
      talker: { type: 'string', default: 'GN' },
      workers: { type: 'string', default: String(Math.max(1, Math.min(availableParallelism(), 8))) },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (!values.out) throw new Error(`--out DIR is required\n${USAGE}`);
  const num = (name: string, raw: string | undefined, ok: (n: number) => boolean, what: string): number => {
    const n = Number(raw);
    if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new Error(`--${name} must be ${what}, got ${raw ?? '(missing)'}`);
    return n;
  };
  const opt = (name: string, raw: string | undefined, ok: (n: number) => boolean, what: string) => (raw === undefined ? undefined : num(name, raw, ok, what));
  const weather = values.weather;
  if (weather !== undefined && !(WEATHERS as readonly string[]).includes(weather)) throw new Error(`--weather must be one of ${WEATHERS.join(', ')}, got ${weather}`);
  const talker = values.talker;
  if (talker !== 'GN' && talker !== 'GP') throw new Error(`--talker must be GN or GP, got ${talker}`);
  const start = new Date(values.start ?? '');
  if (Number.isNaN(start.getTime())) throw new Error(`--start must be an ISO 8601 time such as 2026-11-22T08:00:00Z, got ${values.start}`);
  const lat = opt('lat', values.lat, (n) => Math.abs(n) < 85, 'a latitude within ±85');
  const lon = opt('lon', values.lon, (n) => Math.abs(n) <= 180, 'a longitude within ±180');
  if ((lat === undefined) !== (lon === undefined)) throw new Error('--lat and --lon go together');
  const stopS = num('stop-s', values['stop-s'], (n) => n >= 0, 'a number of seconds ≥ 0');
  const stopAtM = opt('stop-at-m', values['stop-at-m'], (n) => n > 0, 'a distance > 0');
  const forwardM = opt('forward-m', values['forward-m'], (n) => n >= 0 && n <= 10, 'a distance in 0..10');
  const drive: DriveOptions = {
    seed: num('seed', values.seed, Number.isInteger, 'an integer'),
    lengthM: num('length-m', values['length-m'], (n) => n > 0, 'a distance > 0'),
    speedKmh: num('speed-kmh', values['speed-kmh'], (n) => n > 0 && n <= 200, 'a speed in (0, 200]'),
    fps: num('fps', values.fps, (n) => n > 0 && n <= 60, 'a frame rate in (0, 60]'),
    gpsHz: num('gps-hz', values['gps-hz'], (n) => n > 0 && Number.isInteger(100 / n), '1, 2, 4, 5, 10, 20, 25, 50 or 100'),
    width: num('width', values.width, (n) => Number.isInteger(n) && n >= 16 && n <= 8192, 'a whole number of pixels in 16..8192'),
    height: num('height', values.height, (n) => Number.isInteger(n) && n >= 16 && n <= 8192, 'a whole number of pixels in 16..8192'),
    gpsNoiseM: num('gps-noise-m', values['gps-noise-m'], (n) => n >= 0, 'a distance ≥ 0'),
    startTime: start.toISOString(),
    stop: stopS > 0 ? { durationS: stopS, ...(stopAtM === undefined ? {} : { atM: stopAtM }) } : null,
  };
  const defects = opt('defects', values.defects, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');
  if (defects !== undefined) drive.defects = defects;
  if (lat !== undefined && lon !== undefined) drive.start = { lat, lon };
  const heading = opt('heading', values.heading, (n) => n >= 0 && n < 360, 'degrees in [0, 360)');
  if (heading !== undefined) drive.headingDeg = heading;
  if (forwardM !== undefined) drive.mount = { forwardM };
  if (weather !== undefined) drive.conditions = { weather: weather as Weather };
  return {
    out: values.out,
    drive,
    video: values.video ?? false,
    workers: num('workers', values.workers, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1'),
    talker,
  };
}

async function generate(args: Args): Promise<void> {
  const started = performance.now();
  const plan = simulateDrive(args.drive);
  const { out } = args;
  const framesDir = join(out, 'frames');
  await mkdir(framesDir, { recursive: true });
  // Frames of an earlier, longer drive would be read as part of this one.
  const stale = (await readdir(framesDir)).filter((f) => /^\d{6}\.jpg$/.test(f));
  await Promise.all(stale.map((f) => rm(join(framesDir, f))));
  await rm(join(out, VIDEO_FILE), { force: true });

  const tty = process.stdout.isTTY;
  let lastShown = -1;
  const progress = ({ done, total, elapsedS }: RenderProgress) => {
    const line = `rendering ${done}/${total} frames, ${elapsedS.toFixed(1)} s, ${(done / elapsedS).toFixed(1)} frames/s`;
    if (tty) process.stdout.write(`\r${line}${done === total ? '\n' : ''}`);
    else if (done === total || Math.floor((done * 10) / total) > lastShown) {
      lastShown = Math.floor((done * 10) / total);
      console.log(line);
    }
  };
  const boxes = await renderFrames(plan, out, { workers: args.workers, onProgress: progress });
  await writeFile(join(out, NMEA_FILE), writeNmea(plan.fixes, { talker: args.talker }));
  if (args.video) await encodeVideo(out, plan.fps, plan.startTime);
  const truth = makeTruth(plan, { boxes, video: args.video });
  await writeFile(join(out, TRUTH_FILE), `${JSON.stringify(truth, null, 2)}\n`);

  const perClass = new Map<string, number>();
  for (const d of plan.defects) perClass.set(d.class, (perClass.get(d.class) ?? 0) + 1);
  const seen = new Set([...boxes.values()].flat().map((b) => b.defectId));
  const files = [`${framesDir}/000001.jpg … ${String(plan.frames.length).padStart(6, '0')}.jpg`, join(out, NMEA_FILE), join(out, TRUTH_FILE)];
  if (args.video) files.push(`${join(out, VIDEO_FILE)} (${((await stat(join(out, VIDEO_FILE))).size / 1e6).toFixed(1)} MB)`);
  const stop = plan.stop ? `, stop ${plan.stop.durationS} s at ${plan.stop.atM} m (standing ${plan.stop.standS.toFixed(1)}–${plan.stop.moveS.toFixed(1)} s)` : '';
  console.log(
    [
      `drive: ${plan.lengthM} m at ${plan.speedKmh} km/h${stop}, ${plan.durationS.toFixed(1)} s from ${plan.startTime}, seed ${plan.seed} (scene ${plan.sceneSeed}, ${plan.conditions.weather})`,
      `frames: ${plan.frames.length} at ${plan.fps} fps, ${plan.width}×${plan.height}; GPS: ${plan.fixes.length} epochs at ${plan.gpsHz} Hz, noise ${plan.gpsNoiseM} m`,
      plan.defects.length === 0 ? 'defects: none' : `defects: ${plan.defects.length} (${[...perClass].map(([c, n]) => `${c} ${n}`).join(', ')}), ${seen.size} labelled in some frame`,
      `files: ${files.join(', ')}`,
      `done in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    ].join('\n'),
  );
}

/** MJPEG in Matroska: the JPEG frames copied as they are, frame n at n/fps s, creation_time = start. */
async function encodeVideo(out: string, fps: number, startTime: string): Promise<void> {
  const argv = ['-hide_banner', '-loglevel', 'error', '-y', '-framerate', String(fps), '-start_number', '1', '-i', join(out, 'frames', '%06d.jpg'), '-c:v', 'copy', '-metadata', `creation_time=${startTime}`, join(out, VIDEO_FILE)];
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ffmpeg', argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? new Error('--video needs ffmpeg on the PATH (apt install ffmpeg)') : error));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with code ${code}: ${stderr.trim()}`))));
  });
}

Promise.resolve()
  .then(() => generate(parseCli(process.argv.slice(2))))
  .catch((error: unknown) => {
    console.error(`drive:sim: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
