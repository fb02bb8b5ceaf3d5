import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { annotateImage, classColour, labelText } from './annotate.js';
import { bitmapText, fontsRender, fontText, textRenderer } from './annotate-text.js';
import type { Detection } from './detector.js';

const GREY = { r: 90, g: 92, b: 96 };
const frame = () => sharp({ create: { width: 1280, height: 720, channels: 3, background: GREY } }).jpeg({ quality: 95 }).toBuffer();
const pothole: Detection = { class: 'D40', classIndex: 3, confidence: 0.873, box: [500, 400, 700, 520] };

async function pixels(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
  return { info, at };
}

const near = (a: number[], b: readonly number[], tolerance = 24) => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

describe('bitmapText', () => {
  it('draws the 5×7 glyphs scaled to the asked height, with "?" for characters it lacks', async () => {
    const a = await bitmapText('A', 9);
    expect([a.width, a.height]).toEqual([5, 9]);
    // 'A' column 0 is 0x7e: rows 1…6 set, row 0 clear (glyph rows start one unit down).
    const column0 = Array.from({ length: 9 }, (_, y) => a.alpha[y * 5]);
    expect(column0).toEqual([0, 0, 255, 255, 255, 255, 255, 255, 0]);
    const big = await bitmapText('D40 0.87', 27);
    expect([big.width, big.height]).toEqual([(8 * 6 - 1) * 3, 27]);
    expect(await bitmapText('€', 9)).toEqual(await bitmapText('?', 9));
  });
});

describe('annotateImage', () => {
  for (const text of ['font', 'bitmap'] as const) {
    it(`draws the box in the class colour and a filled label above it (${text} text)`, async () => {
      const input = await frame();
      const out = await annotateImage(input, [pothole], { text });
      const { info, at } = await pixels(out);
      expect([info.width, info.height]).toEqual([1280, 720]);
      expect((await sharp(out).metadata()).format).toBe('jpeg');
      const red = classColour(3);
      expect(near(at(600, 400), red)).toBe(true); // top edge
      expect(near(at(500, 460), red)).toBe(true); // left edge
      expect(near(at(700, 460), red)).toBe(true); // right edge
      expect(near(at(600, 520), red)).toBe(true); // bottom edge
      expect(near(at(600, 460), [GREY.r, GREY.g, GREY.b], 8)).toBe(true); // inside untouched
      expect(near(at(100, 100), [GREY.r, GREY.g, GREY.b], 8)).toBe(true); // elsewhere untouched
      // The label sits just above the top-left corner: its background is the class colour and its
      // text (white on red) covers part of it.
      let background = 0;
      let ink = 0;
      for (let y = 372; y < 397; y++) {
        for (let x = 502; x < 580; x++) {
          const p = at(x, y);
          if (near(p, red, 40)) background++;
          else if (near(p, [255, 255, 255], 60)) ink++;
        }
      }
      expect(background).toBeGreaterThan(500);
      expect(ink).toBeGreaterThan(80);
    });
  }

  it('keeps a label inside the image for a box at the top edge, and accepts raw pixels', async () => {
    const raw = { data: Buffer.alloc(640 * 360 * 3, 100), width: 640, height: 360, channels: 3 as const };
    const top: Detection = { class: 'D00', classIndex: 0, confidence: 0.5, box: [0, 0, 120, 200] };
    const { info, at } = await pixels(await annotateImage(raw, [top], { text: 'bitmap' }));
    expect([info.width, info.height]).toEqual([640, 360]);
    // No room above: the label goes inside the box, at its top edge.
    let label = 0;
    for (let y = 2; y < 12; y++) for (let x = 2; x < 50; x++) if (near(at(x, y), classColour(0), 40)) label++;
    expect(label).toBeGreaterThan(150);
  });

  it('with no detections returns the image re-encoded unchanged in size', async () => {
    const { info, at } = await pixels(await annotateImage(await frame(), [], { text: 'bitmap' }));
    expect([info.width, info.height]).toEqual([1280, 720]);
    expect(near(at(640, 360), [GREY.r, GREY.g, GREY.b], 8)).toBe(true);
  });

  it('refuses an image over the pixel limit before decoding it', async () => {
    await expect(annotateImage(await frame(), [pothole], { maxPixels: 1000 })).rejects.toThrow(/pixel limit/i);
  });

  it('labels read "<class> <confidence>"', () => {
    expect(labelText(pothole)).toBe('D40 0.87');
  });
});

describe('text fallback', () => {
  it('uses fonts when they render and the bitmap font on a machine without any', async () => {
    expect(await textRenderer('auto', async () => false)).toBe(bitmapText);
    expect(await textRenderer('auto', async () => true)).toBe(fontText);
    expect(await textRenderer('bitmap', async () => true)).toBe(bitmapText);
    expect(await textRenderer('font', async () => false)).toBe(fontText);
  });

  it('the font probe answers from what librsvg really draws on this machine', async () => {
    const ok = await fontsRender();
    const wide = await fontText('WWWW', 40);
    const inked = wide.alpha.some((a) => a > 127);
    if (ok) expect(inked).toBe(true); // real glyphs drew ink
    expect(wide.height).toBe(40);
  });
});
