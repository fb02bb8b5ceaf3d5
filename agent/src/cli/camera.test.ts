import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, makeJpegFolder } from '../camera/testing/fixtures.js';
import { runCli } from './program.js';
import { fakeIo } from './testing/fake-io.js';


let dir: string;
let clip: string;
/** Small frames and quick retries; the source comes from the command line. */
let small: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-cli-camera-'));
  clip = makeClip(dir);
  small = join(dir, 'small.json');
  writeConfig(small, { source: 'file', path: clip, width: 160, height: 90, fps: 10, restartMinMs: 50, restartMaxMs: 100 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(file: string, camera: Record<string, unknown>): void {
  writeFileSync(file, JSON.stringify({ camera }));
}

describe('roadwatch camera', () => {
  it('--json: frames, measured fps, size, drops and errors of the configured camera', async () => {
    const io = fakeIo();
    expect(await runCli(['--config', small, 'camera', '--frames', '5', '--json'], io)).toBe(0);
    const result = JSON.parse(io.out()) as Record<string, unknown>;
    expect(result).toMatchObject({ camera: `file:${clip}`, frames: 5, width: 160, height: 90, framesDropped: 0, decodeErrors: 0, restarts: 0, lastError: null, snapshot: null, outcome: 'enough' });
    expect(result.fps).toBeGreaterThan(0);
    expect(io.err()).toBe('');
  });

  it('prints a summary line and writes a JPEG snapshot of what the camera sees', async () => {
    const io = fakeIo();
    const shot = join(dir, 'shot.jpg');
    expect(await runCli(['--config', small, 'camera', '--frames', '3', '--snapshot', shot], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^file:${clip}: 3 frames in \\d+\\.\\d s \\(\\d+\\.\\d fps\\), 160×90 RGB, 0 dropped, 0 decoder errors, 0 restarts\\nsnapshot: ${shot}\\n$`));
    expect(io.err()).toBe(`reading file:${clip} (3 frames) — Ctrl-C to stop\n`);
    expect(await sharp(shot).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
  });

  it('--path with a folder reads its JPEGs (the source follows from the option); a short recording just ends', async () => {
    const folder = makeJpegFolder(join(dir, 'shots'), 3);
    const io = fakeIo();
    expect(await runCli(['--config', small, 'camera', '--path', folder, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ camera: `frames:${folder}`, frames: 3, outcome: 'ended' });
  });

  it('works from the environment alone', async () => {
    const io = fakeIo({ ROADWATCH_CAMERA_SOURCE: 'file', ROADWATCH_CAMERA_PATH: clip });
    expect(await runCli(['camera', '--frames', '2', '--json'], io)).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ frames: 2, width: 640, height: 360 });
  });

  it('a camera that is not there: exit 2 with ffmpeg\'s words and the fix', async () => {
    const io = fakeIo();
    expect(await runCli(['--config', small, 'camera', '--device', '/dev/video99'], io)).toBe(2);
    expect(io.out()).toBe('');
    expect(io.err()).toContain('camera v4l2:/dev/video99: ffmpeg: /dev/video99: No such file or directory — check the camera is plugged in (ls /dev/video*) and camera.device\n');
  });

  it('frames, then the camera failed: exit 1 with the reason', async () => {
    const command = join(dir, 'command.json');
    const producer = 'ffmpeg -hide_banner -nostdin -loglevel error -re -f lavfi -i testsrc=size=160x90:rate=10 -frames:v 4 -c:v mjpeg -f mjpeg -';
    writeConfig(command, { source: 'command', command: ['sh', '-c', producer], width: 160, height: 90, fps: 10 });
    const io = fakeIo();
    expect(await runCli(['--config', command, 'camera', '--frames', '50'], io)).toBe(1);
    expect(io.out()).toMatch(/^command:sh: [1-4] frames? in /);
    expect(io.err()).toContain('camera command:sh: the stream ended — the capture command stopped writing video: run it by hand to see why\n');
  });

  it('no camera configured, ffmpeg missing, a snapshot that is not a JPEG: exit 2 naming the fix', async () => {
    const none = fakeIo();
    expect(await runCli(['camera'], none)).toBe(2);
    expect(none.err()).toBe('roadwatch: no camera configured — set "camera" in the config file (docs/CAMERA.md), or pass --device /dev/video0, --url rtsp://…, --path FILE or --source\n');

    const noFfmpeg = join(dir, 'no-ffmpeg.json');
    writeConfig(noFfmpeg, { source: 'v4l2', ffmpegPath: '/nonexistent/ffmpeg' });
    const missing = fakeIo();
    expect(await runCli(['--config', noFfmpeg, 'camera'], missing)).toBe(2);
    expect(missing.err()).toBe('roadwatch: ffmpeg not found at "/nonexistent/ffmpeg": install it (apt install ffmpeg) or set camera.ffmpegPath\n');

    const png = fakeIo();
    expect(await runCli(['--config', small, 'camera', '--snapshot', join(dir, 'x.png')], png)).toBe(2);
    expect(png.err()).toContain('the snapshot is a JPEG — name it something.jpg');

    const rtsp = fakeIo();
    expect(await runCli(['camera', '--source', 'rtsp'], rtsp)).toBe(2);
    expect(rtsp.err()).toContain('camera.url: camera source "rtsp" needs camera.url');
  });

  it('stops on Ctrl-C', async () => {
    const slow = join(dir, 'slow.json');
    writeConfig(slow, { source: 'file', path: clip, width: 160, height: 90, fps: 2, realtime: true });
    const io = fakeIo();
    const running = runCli(['--config', slow, 'camera', '--frames', '100', '--json'], io);
    setTimeout(() => io.signals.emit('SIGINT'), 1200);
    const code = await running;
    const result = JSON.parse(io.out()) as { frames: number; outcome: string };
    expect(result.outcome).toBe('interrupted');
    expect(result.frames).toBeLessThan(4); // the clip has 4 at 2 fps, played in real time
    expect(code).toBe(result.frames > 0 ? 0 : 2);
  });
});
