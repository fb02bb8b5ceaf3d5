import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CameraConfigSchema } from '../config/schema.js';
import { cameraName, dropsFrames, ffmpegPlan, fraction, parseFfmpegVersion, redactCredentials } from './ffmpeg-args.js';

const camera = (input: Record<string, unknown>) => CameraConfigSchema.parse({ width: 640, height: 360, fps: 5, ...input });
const HEAD = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error'];
const LIVE_TAIL = ['-map', '0:v:0', '-vf', 'scale=640:360', '-r', '5', '-fps_mode', 'vfr', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
const RECORDED_TAIL = ['-map', '0:v:0', '-vf', 'fps=5,scale=640:360', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];

describe('ffmpegPlan', () => {
  it('v4l2: MJPEG at the size and rate asked, a drop-only rate cap, raw RGB24 out', () => {
    const plan = ffmpegPlan(camera({ source: 'v4l2', device: '/dev/video2' }));
    expect(plan.producer).toBeNull();
    expect(plan.frameBytes).toBe(640 * 360 * 3);
    expect(plan.ffmpegArgs).toEqual([...HEAD, '-f', 'v4l2', '-input_format', 'mjpeg', '-framerate', '5', '-video_size', '640x360', '-i', '/dev/video2', ...LIVE_TAIL]);
  });

  it('v4l2 without MJPEG lets the driver pick a raw format', () => {
    const args = ffmpegPlan(camera({ source: 'v4l2' }), { v4l2Mjpeg: false }).ffmpegArgs;
    expect(args).not.toContain('-input_format');
    expect(args).toContain('/dev/video0');
  });

  it('rtsp: TCP transport and a socket timeout of stallS in µs (-stimeout before ffmpeg 5)', () => {
    const config = camera({ source: 'rtsp', url: 'rtsp://user:pw@10.0.0.9:554/stream1', stallS: 4 });
    expect(ffmpegPlan(config).ffmpegArgs).toEqual([...HEAD, '-rtsp_transport', 'tcp', '-timeout', '4000000', '-i', 'rtsp://user:pw@10.0.0.9:554/stream1', ...LIVE_TAIL]);
    const old = ffmpegPlan(config, { version: { major: 4, minor: 4 } }).ffmpegArgs;
    expect(old).toContain('-stimeout');
    expect(old).not.toContain('-timeout');
    expect(old).toEqual(expect.arrayContaining(['-vsync', 'vfr']));
    expect(old).not.toContain('-fps_mode');
  });

  it('http(s) MJPEG cameras: no RTSP options', () => {
    const args = ffmpegPlan(camera({ source: 'rtsp', url: 'http://10.0.0.9/video.mjpg' })).ffmpegArgs;
    expect(args).toEqual([...HEAD, '-timeout', '10000000', '-i', 'http://10.0.0.9/video.mjpg', ...LIVE_TAIL]);
  });

  it('file: -re in real time, as fast as possible otherwise, an exact fps grid, an absolute path', () => {
    expect(ffmpegPlan(camera({ source: 'file', path: 'drive.mkv' })).ffmpegArgs).toEqual([...HEAD, '-re', '-i', resolve('drive.mkv'), ...RECORDED_TAIL]);
    expect(ffmpegPlan(camera({ source: 'file', path: '/v/drive.mkv', realtime: false })).ffmpegArgs).toEqual([...HEAD, '-i', '/v/drive.mkv', ...RECORDED_TAIL]);
  });

  it('file and frames resume at startMs after a restart', () => {
    expect(ffmpegPlan(camera({ source: 'file', path: '/v/a.mp4', realtime: false }), { startMs: 2400 }).ffmpegArgs).toEqual([...HEAD, '-ss', '2.400', '-i', '/v/a.mp4', ...RECORDED_TAIL]);
    expect(ffmpegPlan(camera({ source: 'frames', path: '/v/f', realtime: false }), { startMs: 200 }).ffmpegArgs).toContain('-ss');
  });

  it('frames: a name-sorted glob of the folder, its glob characters escaped', () => {
    expect(ffmpegPlan(camera({ source: 'frames', path: '/data/run [1]', realtime: false })).ffmpegArgs).toEqual([
      ...HEAD,
      '-framerate',
      '5',
      '-pattern_type',
      'glob',
      '-i',
      '/data/run \\[1\\]/*.jpg',
      ...RECORDED_TAIL,
    ]);
  });

  it('rpicam: rpicam-vid writes MJPEG to stdout, ffmpeg reads it on stdin with arrival timestamps', () => {
    const plan = ffmpegPlan(camera({ source: 'rpicam' }));
    expect(plan.producer).toEqual({
      command: 'rpicam-vid',
      args: ['-t', '0', '-n', '--codec', 'mjpeg', '--width', '640', '--height', '360', '--framerate', '5', '--flush', '-o', '-'],
      videoFd: 1,
    });
    expect(plan.ffmpegArgs).toEqual([...HEAD, '-use_wallclock_as_timestamps', '1', '-f', 'mjpeg', '-probesize', '32', '-i', 'pipe:0', ...LIVE_TAIL]);
  });

  it('jetson-csi: nvarguscamerasrc → nvjpegenc on fd 3 (gst-launch chatters on stdout)', () => {
    const plan = ffmpegPlan(camera({ source: 'jetson-csi', fps: 2.5 }));
    expect(plan.producer).toEqual({
      command: 'gst-launch-1.0',
      args: ['-q', 'nvarguscamerasrc', '!', 'video/x-raw(memory:NVMM),width=640,height=360,framerate=5/2', '!', 'nvjpegenc', '!', 'fdsink', 'fd=3'],
      videoFd: 3,
    });
    expect(plan.ffmpegArgs).toContain('pipe:0');
  });

  it('command: the user argv, its video probed (MJPEG or H.264)', () => {
    const plan = ffmpegPlan(camera({ source: 'command', command: ['/opt/cam/capture', '--mjpeg'] }));
    expect(plan.producer).toEqual({ command: '/opt/cam/capture', args: ['--mjpeg'], videoFd: 1 });
    expect(plan.ffmpegArgs).toEqual([...HEAD, '-use_wallclock_as_timestamps', '1', '-probesize', '32', '-i', 'pipe:0', ...LIVE_TAIL]);
  });
});

describe('names and modes', () => {
  it('names a source for logs without the password of its URL', () => {
    expect(cameraName(camera({ source: 'v4l2' }))).toBe('v4l2:/dev/video0');
    expect(cameraName(camera({ source: 'rtsp', url: 'rtsp://admin:s3cret@cam/x' }))).toBe('rtsp://admin:***@cam/x');
    expect(cameraName(camera({ source: 'file', path: 'drive.mp4' }))).toBe('file:drive.mp4');
    expect(cameraName(camera({ source: 'frames', path: 'shots' }))).toBe('frames:shots');
    expect(cameraName(camera({ source: 'command', command: ['/usr/bin/libcamera-vid', '-o', '-'] }))).toBe('command:libcamera-vid');
    expect(redactCredentials('rtsp://a:b@h/x: Connection refused')).toBe('rtsp://a:***@h/x: Connection refused');
  });

  it('drops frames for live sources and real-time recordings only', () => {
    expect(dropsFrames({ source: 'v4l2', realtime: false })).toBe(true);
    expect(dropsFrames({ source: 'file', realtime: true })).toBe(true);
    expect(dropsFrames({ source: 'frames', realtime: false })).toBe(false);
  });

  it('parses ffmpeg versions and fps fractions', () => {
    expect(parseFfmpegVersion('ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024')).toEqual({ major: 5, minor: 1 });
    expect(parseFfmpegVersion('ffmpeg version n6.1.1 Copyright')).toEqual({ major: 6, minor: 1 });
    expect(parseFfmpegVersion('ffmpeg version N-112233-gabcdef Copyright')).toBeNull();
    expect(fraction(30)).toBe('30/1');
    expect(fraction(0.5)).toBe('1/2');
  });
});
