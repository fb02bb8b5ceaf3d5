import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CameraConfigSchema, type CameraConfig } from '../../config/schema.js';
import { defaultSpawn, type SpawnFn } from '../child.js';
import type { CameraStatus, FrameSource } from '../frame-source.js';

/** Small and quick: tests share two CPUs. */
export const W = 160;
export const H = 90;

/** A camera config for tests: tiny frames, short watchdog and backoff. */
export function testCamera(input: Record<string, unknown>): CameraConfig {
  return CameraConfigSchema.parse({ width: W, height: H, fps: 10, stallS: 2, restartMinMs: 50, restartMaxMs: 200, ...input });
}

function ffmpeg(args: string[]): void {
  execFileSync('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** An MJPEG .avi of the ffmpeg test pattern: `seconds`·`rate` frames. */
export function makeClip(dir: string, name = 'clip.avi', seconds = 2, rate = 10): string {
  const path = join(dir, name);
  ffmpeg(['-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=${rate}`, '-t', `${seconds}`, '-c:v', 'mjpeg', '-q:v', '5', path]);
  return path;
}

/** `count` JPEGs f001.jpg … whose brightness grows with their number (so their order shows in the frames). */
export function makeJpegFolder(dir: string, count: number): string {
  mkdirSync(dir, { recursive: true });
  ffmpeg(['-f', 'lavfi', '-i', `nullsrc=size=${W}x${H}:rate=10`, '-vf', 'geq=lum=20+N*15:cb=128:cr=128', '-frames:v', `${count}`, '-q:v', '3', join(dir, 'f%03d.jpg')]);
  return dir;
}

/** Overwrites a few hundred bytes at several places in the middle of a file (a damaged recording). */
export function damage(path: string): void {
  const size = statSync(path).size;
  const fd = openSync(path, 'r+');
  try {
    let seed = 7;
    for (let k = 3; k <= 7; k++) {
      const junk = Buffer.alloc(300, 0).map(() => (seed = (seed * 1103515245 + 12345) & 0xff));
      writeSync(fd, junk, 0, junk.length, Math.floor((size * k) / 10));
    }
  } finally {
    closeSync(fd);
  }
}

/** Mean of a frame's bytes (0–255). */
export function meanLevel(rgb: Buffer): number {
  let sum = 0;
  for (const b of rgb) sum += b;
  return sum / rgb.length;
}

/** A TCP port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A network MJPEG camera: ffmpeg serving the test pattern as multipart JPEG over HTTP to one client. */
export function mjpegHttpCamera(port: number): ChildProcess {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-loglevel', 'quiet', '-re', '-f', 'lavfi', '-i', `testsrc=size=${W}x${H}:rate=10`, '-c:v', 'mjpeg', '-q:v', '5', '-f', 'mpjpeg', '-listen', '1', `http://127.0.0.1:${port}/`],
    { stdio: 'ignore' },
  );
  child.on('error', () => {});
  return child;
}

/** spawn, remembering every process it started (to check none is left behind). */
export function recordingSpawn(): { spawn: SpawnFn; children: ChildProcess[] } {
  const children: ChildProcess[] = [];
  return {
    children,
    spawn: (command, args, options) => {
      const child = defaultSpawn(command, args, options);
      children.push(child);
      return child;
    },
  };
}

/** True while a process runs (a zombie waiting for its parent to reap it counts as gone). Linux /proc. */
export function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== null && stat.state !== 'Z';
}

/** Processes of a process group that still run (a shell's children included). */
export function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      const stat = procStat(pid);
      return stat !== null && stat.pgid === pgid && stat.state !== 'Z';
    });
}

function procStat(pid: number): { state: string; pgid: number } | null {
  try {
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgid: Number(fields[2]) };
  } catch {
    return null;
  }
}

export async function waitFor(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Every status change of a camera, in order. */
export function recordStatuses(camera: FrameSource): CameraStatus[] {
  const seen: CameraStatus[] = [];
  camera.onStatus((s) => seen.push(s));
  return seen;
}
