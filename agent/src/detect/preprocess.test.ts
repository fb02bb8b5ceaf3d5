import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DetectError } from './errors.js';
import { preprocess } from './preprocess.js';
import { halvesPng, pngClaiming, solidJpeg } from './testing/images.js';

const input = { width: 320, height: 320 };
const plane = 320 * 320;
const at = (t: Float32Array, channel: number, x: number, y: number): number => t[channel * plane + y * 320 + x]!;
const opts = { maxPixels: 40_000_000 };

describe('preprocess', () => {
  it('letterboxes a 1280×720 JPEG into CHW float32 with grey 114 padding', async () => {
    const target = new Float32Array(3 * plane);
    const { frame, letterbox } = await preprocess(await solidJpeg(1280, 720), input, target, opts);
    expect(frame).toEqual({ w: 1280, h: 720 });
    expect(letterbox.pad).toEqual({ left: 0, top: 70, right: 0, bottom: 70 });
    for (const c of [0, 1, 2]) {
      expect(at(target, c, 10, 10)).toBeCloseTo(114 / 255, 5); // padding above
      expect(at(target, c, 300, 315)).toBeCloseTo(114 / 255, 5); // padding below
    }
    expect(at(target, 0, 160, 160)).toBeCloseTo(200 / 255, 1.5); // R
    expect(at(target, 1, 160, 160)).toBeCloseTo(100 / 255, 1.5); // G
    expect(at(target, 2, 160, 160)).toBeCloseTo(50 / 255, 1.5); // B
  });

  it('keeps RGB order and geometry (red left, blue right)', async () => {
    const target = new Float32Array(3 * plane);
    await preprocess(await halvesPng(640, 320), input, target, opts); // → 320×160, 80 px pad top
    expect(at(target, 0, 40, 160)).toBeCloseTo(250 / 255, 2);
    expect(at(target, 2, 40, 160)).toBeCloseTo(0, 2);
    expect(at(target, 0, 280, 160)).toBeCloseTo(0, 2);
    expect(at(target, 2, 280, 160)).toBeCloseTo(250 / 255, 2);
    expect(at(target, 0, 40, 79)).toBeCloseTo(114 / 255, 5);
  });

  it('takes raw RGB and RGBA pixels, and greyscale images', async () => {
    const rgba = Buffer.alloc(64 * 64 * 4, 0);
    for (let i = 0; i < rgba.length; i += 4) rgba.set([10, 20, 30, 255], i);
    const target = new Float32Array(3 * plane);
    const r = await preprocess({ data: rgba, width: 64, height: 64, channels: 4 }, input, target, opts);
    expect(r.frame).toEqual({ w: 64, h: 64 });
    expect([0, 1, 2].map((c) => Math.round(at(target, c, 100, 100) * 255))).toEqual([10, 20, 30]);

    const grey = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#404040' } }).greyscale().toColourspace('b-w').png().toBuffer();
    expect((await sharp(grey).metadata()).channels).toBe(1);
    await preprocess(grey, input, target, opts);
    expect([0, 1, 2].map((c) => Math.round(at(target, c, 160, 160) * 255))).toEqual([64, 64, 64]);
  });

  describe('bad input', () => {
    const target = new Float32Array(3 * plane);
    const fails = (image: Parameters<typeof preprocess>[0], maxPixels = 40_000_000) => preprocess(image, input, target, { maxPixels });

    it('0-byte file', async () => {
      await expect(fails(Buffer.alloc(0))).rejects.toThrow(new DetectError('empty image (0 bytes)', 'check the camera or the file; a frame must be a JPEG, PNG or WebP'));
    });

    it('not an image', async () => {
      await expect(fails(Buffer.from('hello, I am a text file\n'))).rejects.toThrow(/^not an image \(.*unsupported image format.*\) — pass a JPEG, PNG or WebP file$/);
    });

    it('truncated JPEG', async () => {
      const jpeg = await solidJpeg(1280, 720);
      await expect(fails(jpeg.subarray(0, Math.floor(jpeg.length / 2)))).rejects.toThrow(/^truncated image \(.+\) — the file or frame was cut short/);
    });

    it('over maxPixels, refused from the header', async () => {
      await expect(fails(await solidJpeg(1500, 1000), 1_000_000)).rejects.toThrow(
        'image is 1500×1000 (1.5 MP), over the detector.maxPixels limit of 1000000 (1.0 MP) — scale the image down or raise detector.maxPixels',
      );
    });

    it('a 2.5-gigapixel PNG header costs no memory', async () => {
      const bomb = await pngClaiming(50_000, 50_000);
      const before = process.memoryUsage().rss;
      await expect(fails(bomb)).rejects.toThrow(/image is 50000×50000 \(2500\.0 MP\), over the detector.maxPixels limit/);
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    });

    it('raw pixels of the wrong length', async () => {
      await expect(fails({ data: Buffer.alloc(10), width: 64, height: 64, channels: 3 })).rejects.toThrow(/raw image has 10 bytes, expected 64×64×3 = 12288/);
    });
  });
});
