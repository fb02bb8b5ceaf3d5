import type { ChildProcess } from 'node:child_process';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegCamera } from './ffmpeg-camera.js';
import type { Frame } from './frame-source.js';
import { freePort, H, mjpegHttpCamera, recordStatuses, testCamera, W, waitFor } from './testing/fixtures.js';

const logger = pino({ level: 'silent' });
let server: ChildProcess | null = null;
let cam: FfmpegCamera | null = null;
afterEach(async () => {
  await cam?.stop();
  server?.kill('SIGKILL');
});

describe('FfmpegCamera, a network camera that disappears and comes back', () => {
  it('fault (or stall), restarts with backoff while it is gone, frames again when it is back', async () => {
    const port = await freePort();
    server = mjpegHttpCamera(port);
    cam = new FfmpegCamera(testCamera({ source: 'rtsp', url: `http://127.0.0.1:${port}/`, fps: 5, stallS: 1.5, restartMinMs: 100, restartMaxMs: 400 }), { logger });
    const statuses = recordStatuses(cam);
    const frames: Frame[] = [];
    await cam.start((frame) => void frames.push(frame));
    await waitFor('frames from the camera', () => frames.length >= 3);
    expect(cam.recorded).toBe(false);
    expect(frames[0]).toMatchObject({ width: W, height: H, ptsMs: null });

    server.kill('SIGKILL'); // unplugged
    await waitFor('the loss noticed', () => cam?.status().state === 'fault' || cam?.status().state === 'stalled');
    const lost = frames.length;
    const restartsWhileGone = cam.status().restarts;
    await waitFor('retries while it is gone', () => (cam?.status().restarts ?? 0) >= restartsWhileGone + 2);
    expect(cam.status().lastError).toBe(`camera ${cam.name}: ffmpeg: ${cam.name}: Connection refused — nothing listens at that address: check the host and port in camera.url and that the camera has its stream enabled`);

    server = mjpegHttpCamera(port); // back
    await waitFor('frames again', () => frames.length >= lost + 3 && cam?.status().state === 'ok');
    const seqs = frames.map((f) => f.seq);
    expect(seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number))).toBe(true); // seq continues across restarts
    expect(statuses.map((s) => s.state)).toContain('ok');
    expect(statuses.at(-1)?.state).toBe('ok');
    expect(cam.status().lastError).not.toBeNull(); // kept after recovery
  });
});
