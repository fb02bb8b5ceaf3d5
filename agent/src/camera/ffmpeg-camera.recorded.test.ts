import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegCamera } from './ffmpeg-camera.js';
import type { Frame } from './frame-source.js';
import { damage, H, makeClip, makeJpegFolder, meanLevel, recordStatuses, testCamera, W, waitFor } from './testing/fixtures.js';

const logger = pino({ level: 'silent' });
let dir: string;
let clip: string;
const cameras: FfmpegCamera[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-camera-'));
  clip = makeClip(dir); // 2 s at 10 fps
});
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function camera(input: Record<string, unknown>): FfmpegCamera {
  const c = new FfmpegCamera(testCamera(input), { logger });
  cameras.push(c);
  return c;
}

const sha = (b: Buffer) => createHash('sha1').update(b).digest('hex');

describe('FfmpegCamera, recorded sources', () => {
  it('a file as fast as possible: every frame at the capped fps, right size and ptsMs, none dropped under a slow sink', async () => {
    const cam = camera({ source: 'file', path: clip, fps: 5, realtime: false });
    const frames: Frame[] = [];
    const hashes: string[] = [];
    await cam.start(async (frame) => {
      frames.push(frame);
      hashes.push(sha(frame.rgb));
      await sleep(30);
    });
    expect(cam.recorded).toBe(true);
    await cam.ended();
    expect(frames).toHaveLength(10); // 2 s · 5 fps
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800]);
    for (const f of frames) expect([f.width, f.height, f.rgb.length]).toEqual([W, H, W * H * 3]);
    expect(frames.every((f, i) => i === 0 || f.monoMs >= (frames[i - 1] as Frame).monoMs)).toBe(true);
    // Frames handed out earlier are never overwritten by later ones, and they differ (the pattern moves).
    expect(frames.map((f) => sha(f.rgb))).toEqual(hashes);
    expect(new Set(hashes).size).toBeGreaterThan(5);
    expect(cam.status()).toMatchObject({ state: 'ended', framesIn: 10, framesDropped: 0, restarts: 0, decodeErrors: 0, lastError: null });
  });

  it('ended() resolves only after the sink has finished the last frame', async () => {
    const cam = camera({ source: 'file', path: clip, fps: 2, realtime: false });
    let finished = 0;
    await cam.start(async () => {
      await sleep(50);
      finished += 1;
    });
    await cam.ended();
    expect(finished).toBe(4);
  });

  it('a file in real time drops the newest frames while the sink is busy, and counts them', async () => {
    const cam = camera({ source: 'file', path: clip, fps: 10, realtime: true });
    const seqs: number[] = [];
    await cam.start(async (frame) => {
      seqs.push(frame.seq);
      await sleep(250);
    });
    await cam.ended();
    const status = cam.status();
    expect(status.framesIn).toBe(20);
    expect(status.framesDropped).toBeGreaterThan(0);
    expect(seqs.length + status.framesDropped).toBe(20);
    expect(seqs.some((s, i) => i > 0 && s - (seqs[i - 1] as number) > 1)).toBe(true); // gaps in seq show the drops
  });

  it('a folder of JPEGs plays in name order', async () => {
    const folder = makeJpegFolder(join(dir, 'shots'), 6);
    const cam = camera({ source: 'frames', path: folder, fps: 5, realtime: false });
    const frames: Frame[] = [];
    await cam.start((frame) => void frames.push(frame));
    await cam.ended();
    expect(cam.name).toBe(`frames:${folder}`);
    expect(frames.map((f) => f.ptsMs)).toEqual([0, 200, 400, 600, 800, 1000]);
    const levels = frames.map((f) => meanLevel(f.rgb));
    expect(levels.every((l, i) => i === 0 || l > (levels[i - 1] as number) + 5)).toBe(true);
  });

  it('a damaged video: frames still come, decoder complaints are counted, the source ends normally', async () => {
    const bad = join(dir, 'damaged.avi');
    makeClip(dir, 'damaged.avi');
    damage(bad);
    const cam = camera({ source: 'file', path: bad, fps: 10, realtime: false });
    let count = 0;
    await cam.start(() => void (count += 1));
    await cam.ended();
    expect(count).toBeGreaterThanOrEqual(15);
    expect(cam.status()).toMatchObject({ state: 'ended', lastError: null });
    expect(cam.status().decodeErrors).toBeGreaterThan(0);
  });

  it('a missing video: a fault naming the path in ffmpeg\'s words and the fix, retried with backoff', async () => {
    const missing = join(dir, 'nope.mp4');
    const cam = camera({ source: 'file', path: missing, realtime: false });
    const statuses = recordStatuses(cam);
    await cam.start(() => {});
    await waitFor('two restarts', () => cam.status().restarts >= 2);
    const status = cam.status();
    expect(status.state).toBe('fault');
    expect(status.lastError).toBe(`camera file:${missing}: ffmpeg: ${missing}: No such file or directory — check camera.path`);
    expect(status.message).toBe(status.lastError);
    // The fault is told once, not once per retry.
    expect(statuses.map((s) => s.state)).toEqual(['starting', 'fault']);
    await cam.stop();
    expect(cam.status().state).toBe('stopped');
  });
});
