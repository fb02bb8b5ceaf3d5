// End to end: the CLI writes a drive the agent's own readers accept (small: 320×180, 150 m).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fix } from '../../agent/src/gps/fix.js';
import { NmeaFileSource } from '../../agent/src/gps/nmea-file-source.js';
import { encodeJpeg } from '../../models/scene/encode.js';
import { renderScene } from '../../models/scene/render.js';
import { frameSceneOptions } from './render.js';
import { loadTruth, scoreEvents, type Truth } from './score.js';
import { simulateDrive } from './simulate.js';
import { makeTruth } from './truth.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const hasFfmpeg = spawnSync('ffprobe', ['-version']).status === 0;
const ARGS = ['--length-m', '150', '--width', '320', '--height', '180', '--defects', '4', '--stop-s', '3', '--seed', '5', '--workers', '2'];

let dir: string;
let truth: Truth;
let output: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-drive-sim-'));
  mkdirSync(join(dir, 'frames'));
  writeFileSync(join(dir, 'frames', '000999.jpg'), 'stale');
  output = execFileSync(join(root, 'node_modules/.bin/tsx'), ['scripts/drive/generate.ts', '--out', dir, ...ARGS, ...(hasFfmpeg ? ['--video'] : [])], { cwd: root, encoding: 'utf8' });
  truth = await loadTruth(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run drive:sim', () => {
  it('writes one JPEG per planned frame, the truth of the same plan, and a summary', () => {
    const plan = simulateDrive({ seed: 5, lengthM: 150, width: 320, height: 180, defects: 4, stop: { durationS: 3 } });
    const frames = readdirSync(join(dir, 'frames')).sort();
    expect(frames).toHaveLength(plan.frames.length);
    expect(frames[0]).toBe('000001.jpg');
    expect(frames.at(-1)).toBe(`${String(plan.frames.length).padStart(6, '0')}.jpg`);
    const { frames: truthFrames, ...rest } = truth;
    const { frames: planFrames, ...expected } = makeTruth(plan, { video: hasFfmpeg });
    expect(rest).toEqual(expected);
    expect(truthFrames.map(({ boxes: _, ...f }) => f)).toEqual(planFrames);
    expect(truth.frameCount).toBe(plan.frames.length);
    expect(truth.frames[0]!.time).toBe('2026-11-22T08:00:00.000Z');
    // Every defect is approached from out of sight and labelled in some frame on the way.
    expect(truth.frames[0]!.boxes).toEqual([]);
    expect(new Set(truth.frames.flatMap((f) => f.boxes ?? []).map((b) => b.defectId))).toEqual(new Set(truth.defects.map((d) => d.id)));
    expect(output).toMatch(/frames: \d+ at 5 fps, 320×180/);
    expect(output).toMatch(/defects: 4 /);
  });

  it('is deterministic: frame 1 is byte for byte what the same plan renders here', async () => {
    const plan = simulateDrive({ seed: 5, lengthM: 150, width: 320, height: 180, defects: 4, stop: { durationS: 3 } });
    const here = await encodeJpeg(renderScene(frameSceneOptions(plan, plan.frames[0]!)));
    expect(readFileSync(join(dir, 'frames', '000001.jpg')).equals(here)).toBe(true);
  });

  it('writes an NMEA log the agent replays into one fix per epoch, the first at the start time', async () => {
    const source = new NmeaFileSource({ file: join(dir, 'drive.nmea'), logger: pino({ level: 'silent' }) });
    const fixes: Fix[] = [];
    source.onFix((f) => fixes.push(f));
    await source.start();
    const stats = await source.finished();
    expect(stats.checksumErrors).toBe(0);
    expect(fixes).toHaveLength(Math.floor(truth.durationS * truth.gpsHz + 1e-9) + 1);
    expect(fixes[0]).toMatchObject({ time: truth.startTime, mode: 3 });
    expect(Math.abs(fixes[0]!.lat! - truth.start.lat)).toBeLessThan(1e-6);
    expect(fixes.some((f) => f.speedKmh === 0)).toBe(true);
    // A perfect agent reporting the defect centres scores 1/1.
    expect(scoreEvents(truth.defects, truth)).toMatchObject({ precision: 1, recall: 1, eventsPerDefect: 1 });
  });

  it.skipIf(!hasFfmpeg)('encodes the frames to MJPEG in Matroska at the drive fps, stamped with the start time', () => {
    const probe = JSON.parse(
      execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=codec_name,r_frame_rate,nb_read_frames:format_tags=creation_time', '-of', 'json', join(dir, 'drive.mkv')], { encoding: 'utf8' }),
    ) as { streams: { codec_name: string; r_frame_rate: string; nb_read_frames: string }[]; format: { tags: { creation_time: string } } };
    expect(probe.streams[0]).toEqual({ codec_name: 'mjpeg', r_frame_rate: '5/1', nb_read_frames: String(truth.frameCount) });
    expect(Date.parse(probe.format.tags.creation_time)).toBe(Date.parse(truth.startTime));
  });
});
