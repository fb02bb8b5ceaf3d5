import { describe, expect, it } from 'vitest';
import { CameraConfigSchema } from '../config/schema.js';
import { explainExit, explainSpawnError } from './camera-errors.js';
import { LogTail } from './log-tail.js';

const camera = (input: Record<string, unknown>) => CameraConfigSchema.parse(input);
const failed = { code: 1, signal: null };

describe('explainExit', () => {
  it('takes the line that says why, not the consequences, and adds the fix', () => {
    const text = explainExit({
      camera: camera({ source: 'frames', path: '/data/shots' }),
      name: 'frames:/data/shots',
      ffmpeg: failed,
      ffmpegLines: ['[image2 @ 0x55967181aa00] Could not open file : /data/shots/*.jpg', 'Output file #0 does not contain any stream'],
      producer: null,
      live: false,
    });
    expect(text).toBe('camera frames:/data/shots: ffmpeg: Could not open file : /data/shots/*.jpg — camera.path must be a folder holding .jpg files (sorted by name)');
  });

  it('skips decoder complaints when looking for the reason', () => {
    const text = explainExit({
      camera: camera({ source: 'v4l2', device: '/dev/video0' }),
      name: 'v4l2:/dev/video0',
      ffmpeg: failed,
      ffmpegLines: ['[video4linux2,v4l2 @ 0x1] ioctl(VIDIOC_DQBUF): No such device', '/dev/video0: No such device', '[mjpeg @ 0x2] error count: 64'],
      producer: null,
      live: true,
    });
    expect(text).toBe('camera v4l2:/dev/video0: ffmpeg: /dev/video0: No such device — check the camera is plugged in (ls /dev/video*) and camera.device');
  });

  it('blames the capture program when it failed first, in its own words', () => {
    const text = explainExit({
      camera: camera({ source: 'rpicam' }),
      name: 'rpicam',
      ffmpeg: failed,
      ffmpegLines: ['pipe:0: Invalid data found when processing input'],
      producer: { command: 'rpicam-vid', exit: { code: 255, signal: null }, lines: ['[0:00:01.1] [123]  INFO Camera camera_manager.cpp:297 libcamera v0.1.0', 'ERROR: *** no cameras available ***'] },
      live: true,
    });
    expect(text).toBe('camera rpicam: rpicam-vid: ERROR: *** no cameras available *** — no camera found: check the ribbon cable and that rpicam-hello --list-cameras lists it');
  });

  it('says so when ffmpeg printed nothing', () => {
    const text = explainExit({ camera: camera({ source: 'file', path: 'a.mp4' }), name: 'file:a.mp4', ffmpeg: { code: null, signal: 'SIGSEGV' }, ffmpegLines: [], producer: null, live: false });
    expect(text).toMatch(/^camera file:a\.mp4: ffmpeg exited with signal SIGSEGV and said nothing — /);
  });

  it('names the package to install for a missing preset program', () => {
    const enoent = Object.assign(new Error('spawn rpicam-vid ENOENT'), { code: 'ENOENT' });
    expect(explainSpawnError('rpicam', 'rpicam-vid', enoent, camera({ source: 'rpicam' }))).toMatch(/^camera rpicam: rpicam-vid not found — install rpicam-apps \(sudo apt install rpicam-apps\)/);
    expect(explainSpawnError('jetson-csi', 'gst-launch-1.0', enoent, camera({ source: 'jetson-csi' }))).toMatch(/gst-launch-1\.0 not found — install GStreamer's tools/);
  });
});

describe('LogTail', () => {
  it('keeps the last lines, joins lines split across chunks, masks passwords, counts decoder complaints', () => {
    const tail = new LogTail(3);
    tail.push('[mjpeg @ 0x55fd913f5d00] overread 8\n[mjpeg @ 0x55fd');
    tail.push('913f5d00] huffman table decode error\n    Last message repeated 2 times\nError while decoding stream #0:0: Invalid data found when processing input\n');
    tail.push('rtsp://admin:hunter2@cam/x: Connection ref');
    tail.flush();
    expect(tail.decodeErrors).toBe(5);
    expect(tail.lines()).toEqual(['[mjpeg @ 0x55fd913f5d00] huffman table decode error', 'Error while decoding stream #0:0: Invalid data found when processing input', 'rtsp://admin:***@cam/x: Connection ref']);
  });
});
