import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '@roadwatch/shared';
import { FfmpegCamera, type FfmpegCameraDeps } from './ffmpeg-camera.js';
import { freePort, groupMembers, running, recordStatuses, recordingSpawn, testCamera, waitFor } from './testing/fixtures.js';

const logger = pino({ level: 'silent' });
const cameras: FfmpegCamera[] = [];
afterEach(async () => {
  await Promise.all(cameras.splice(0).map((c) => c.stop()));
});

function camera(input: Record<string, unknown>, deps: Partial<FfmpegCameraDeps> = {}): FfmpegCamera {
  const c = new FfmpegCamera(testCamera(input), { logger, ...deps });
  cameras.push(c);
  return c;
}

/** A capture command writing MJPEG of the test pattern at 10 fps (`frames` of them, then `after`). */
function producer(frames: number, after = ''): string[] {
  return ['sh', '-c', `ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x90:rate=10 -frames:v ${frames} -c:v mjpeg -f mjpeg -${after}`];
}

describe('FfmpegCamera, faults', () => {
  it('ffmpeg missing: start() rejects naming the path and the fix', async () => {
    const cam = camera({ source: 'v4l2', ffmpegPath: '/nonexistent/ffmpeg' });
    const error = await cam.start(() => {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toBe('ffmpeg not found at "/nonexistent/ffmpeg": install it (apt install ffmpeg) or set camera.ffmpegPath');
    expect(cam.status().state).toBe('stopped');
  });

  it('a V4L2 device that does not exist: a fault in ffmpeg\'s words with the fix, retried and counted', async () => {
    const cam = camera({ source: 'v4l2', device: '/dev/video99' });
    await cam.start(() => {});
    await waitFor('two restarts', () => cam.status().restarts >= 2);
    expect(cam.status()).toMatchObject({
      state: 'fault',
      framesIn: 0,
      lastError: 'camera v4l2:/dev/video99: ffmpeg: /dev/video99: No such file or directory — check the camera is plugged in (ls /dev/video*) and camera.device',
    });
  });

  it('RTSP to a closed port: "Connection refused" and what to check', async () => {
    const port = await freePort();
    const cam = camera({ source: 'rtsp', url: `rtsp://viewer:secret@127.0.0.1:${port}/stream` });
    await cam.start(() => {});
    await waitFor('a fault', () => cam.status().state === 'fault');
    expect(cam.name).toBe(`rtsp://viewer:***@127.0.0.1:${port}/stream`);
    expect(cam.status().lastError).toBe(
      `camera ${cam.name}: ffmpeg: ${cam.name}: Connection refused — nothing listens at that address: check the host and port in camera.url and that the camera has its stream enabled`,
    );
  });

  it('a capture program that is not installed: a fault naming it', async () => {
    const cam = camera({ source: 'command', command: ['/nonexistent/capture', '-o', '-'] });
    await cam.start(() => {});
    await waitFor('a fault', () => cam.status().state === 'fault');
    expect(cam.status().lastError).toBe('camera command:capture: /nonexistent/capture not found — check camera.command (the program must be on PATH or given with its full path)');
  });

  it('the watchdog: a capture command that goes silent is restarted, and frames flow again', async () => {
    const cam = camera({ source: 'command', command: producer(4, '; exec sleep 60'), stallS: 1.2 });
    const statuses = recordStatuses(cam);
    let frames = 0;
    await cam.start(() => void (frames += 1));
    await waitFor('a stall', () => cam.status().state === 'stalled');
    const before = frames;
    expect(before).toBeGreaterThan(0);
    expect(cam.status().lastError).toMatch(/^camera command:sh: no frame for 1\.2 s — restarting ffmpeg; the capture command stopped writing video$/);
    await waitFor('frames after the restart', () => frames > before && cam.status().state === 'ok');
    expect(cam.status().restarts).toBeGreaterThanOrEqual(1);
    expect(statuses.map((s) => s.state).slice(0, 4)).toEqual(['starting', 'ok', 'stalled', 'ok']);
  });

  it('a capture command that ends: a live source ending is a fault, retried', async () => {
    const cam = camera({ source: 'command', command: producer(3) });
    await cam.start(() => {});
    await waitFor('a fault', () => cam.status().state === 'fault');
    expect(cam.status().lastError).toBe('camera command:sh: the stream ended — the capture command stopped writing video: run it by hand to see why');
    await waitFor('a restart', () => cam.status().restarts >= 1);
  });

  it('stop() during a sink call waits for it and leaves no process behind', async () => {
    const { spawn, children } = recordingSpawn();
    const cam = camera({ source: 'command', command: producer(1000) }, { spawn });
    let release!: () => void;
    const called = new Promise<void>((resolveCalled) => {
      void cam.start(
        () =>
          new Promise<void>((resolve) => {
            release = resolve;
            resolveCalled();
          }),
      );
    });
    await called;
    let stopped = false;
    const stopping = cam.stop().then(() => (stopped = true));
    await sleep(300);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(cam.status().state).toBe('stopped');
    const pids = children.map((c) => c.pid as number);
    expect(pids).toHaveLength(3); // ffmpeg -version, ffmpeg, the producer (sh and its ffmpeg, one process group)
    expect(pids.filter(running)).toEqual([]);
    expect(groupMembers(pids[2] as number)).toEqual([]);
    await cam.stop(); // idempotent
  });
});
