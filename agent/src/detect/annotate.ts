// Draws detections onto an image: a box, and a label (class and confidence) on a filled background
// in the class colour. Sizes scale with the image so labels stay readable from 640×360 to 4K.
import sharp from 'sharp';
import type { Detection, ImageInput } from './detector.js';
import { textRenderer, type TextMask, type TextMode } from './annotate-text.js';

export interface AnnotateOptions {
  /** Fonts when the machine has any (`auto`), or force one way (tests, stripped images). */
  text?: TextMode;
  /** JPEG quality of the output. */
  quality?: number;
  /** Images with more pixels are refused before decoding. */
  maxPixels?: number;
}

type Rgb = readonly [number, number, number];

/** Distinct colours; class i takes PALETTE[i % length] (D00 sky, D10 amber, D20 violet, D40 red). */
export const PALETTE: readonly Rgb[] = [
  [0, 194, 255],
  [255, 178, 29],
  [203, 56, 255],
  [255, 56, 56],
  [72, 249, 10],
  [255, 149, 200],
  [0, 212, 187],
  [255, 112, 31],
  [100, 115, 255],
  [207, 210, 49],
];

export function classColour(classIndex: number): Rgb {
  return PALETTE[((classIndex % PALETTE.length) + PALETTE.length) % PALETTE.length]!;
}

export function labelText(detection: Detection): string {
  return `${detection.class} ${detection.confidence.toFixed(2)}`;
}

interface Canvas {
  data: Buffer;
  width: number;
  height: number;
}

/** Decodes the image, draws the detections, and encodes a JPEG. */
export async function annotateImage(image: ImageInput, detections: readonly Detection[], options: AnnotateOptions = {}): Promise<Buffer> {
  const canvas = await decode(image, options.maxPixels ?? 40_000_000);
  await drawDetections(canvas, detections, options.text);
  return sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 3 } })
    .jpeg({ quality: options.quality ?? 90 })
    .toBuffer();
}

async function decode(image: ImageInput, maxPixels: number): Promise<Canvas> {
  const input = Buffer.isBuffer(image)
    ? sharp(image, { limitInputPixels: maxPixels, autoOrient: true }) // as the detector decodes it: boxes are in the upright frame
    : sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  const { data, info } = await input.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Draws on raw RGB pixels in place: every box first, then the labels, so no line crosses a label. */
export async function drawDetections(canvas: Canvas, detections: readonly Detection[], mode: TextMode = 'auto'): Promise<void> {
  const unit = Math.min(canvas.width, canvas.height) / 720;
  const thickness = Math.max(2, Math.round(3 * unit));
  const textPx = Math.max(12, Math.round(22 * unit));
  const pad = Math.max(2, Math.round(4 * unit));
  const order = [...detections].sort((a, b) => a.confidence - b.confidence); // the most confident on top
  for (const d of order) strokeRect(canvas, d.box, thickness, classColour(d.classIndex));
  const render = await textRenderer(mode);
  const placed: Rect[] = [];
  for (const d of [...order].reverse()) {
    // The most confident label first, so it gets its place at the box corner; a label that would
    // cover one already placed moves down below it (two classes on one spot stay readable).
    const colour = classColour(d.classIndex);
    const mask = await render(labelText(d), textPx);
    const w = mask.width + 2 * pad;
    const h = mask.height + pad;
    const [x1, y1] = [Math.round(d.box[0]), Math.round(d.box[1])];
    const x = clamp(x1 - Math.floor(thickness / 2), 0, Math.max(0, canvas.width - w));
    const above = y1 - Math.floor(thickness / 2) - h;
    let y = above >= 0 ? above : clamp(y1 + Math.ceil(thickness / 2), 0, Math.max(0, canvas.height - h)); // inside the box at the top edge
    for (let tries = 0; tries < 8; tries++) {
      const hit = placed.find((r) => x < r.x + r.w && r.x < x + w && y < r.y + r.h && r.y < y + h);
      if (!hit || hit.y + hit.h + h > canvas.height) break;
      y = hit.y + hit.h;
    }
    placed.push({ x, y, w, h });
    fillRect(canvas, x, y, w, h, colour);
    blendMask(canvas, mask, x + pad, y + Math.floor(pad / 2), luminance(colour) > 140 ? [0, 0, 0] : [255, 255, 255]);
  }
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function luminance([r, g, b]: Rgb): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

function fillRect(c: Canvas, x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
  const x0 = clamp(Math.round(x), 0, c.width);
  const x1 = clamp(Math.round(x + w), 0, c.width);
  const y0 = clamp(Math.round(y), 0, c.height);
  const y1 = clamp(Math.round(y + h), 0, c.height);
  for (let row = y0; row < y1; row++) {
    for (let col = x0; col < x1; col++) {
      const i = (row * c.width + col) * 3;
      c.data[i] = r;
      c.data[i + 1] = g;
      c.data[i + 2] = b;
    }
  }
}

/** A rectangle outline centred on the box edges, clipped to the image. */
function strokeRect(c: Canvas, box: Detection['box'], t: number, colour: Rgb): void {
  const [x1, y1, x2, y2] = box.map(Math.round) as [number, number, number, number];
  const half = Math.floor(t / 2);
  fillRect(c, x1 - half, y1 - half, x2 - x1 + t, t, colour); // top
  fillRect(c, x1 - half, y2 - half, x2 - x1 + t, t, colour); // bottom
  fillRect(c, x1 - half, y1 - half, t, y2 - y1 + t, colour); // left
  fillRect(c, x2 - half, y1 - half, t, y2 - y1 + t, colour); // right
}

function blendMask(c: Canvas, mask: TextMask, x: number, y: number, colour: Rgb): void {
  for (let my = 0; my < mask.height; my++) {
    const row = y + my;
    if (row < 0 || row >= c.height) continue;
    for (let mx = 0; mx < mask.width; mx++) {
      const col = x + mx;
      const a = mask.alpha[my * mask.width + mx]!;
      if (a === 0 || col < 0 || col >= c.width) continue;
      const i = (row * c.width + col) * 3;
      for (let k = 0; k < 3; k++) c.data[i + k] = Math.round((colour[k]! * a + c.data[i + k]! * (255 - a)) / 255);
    }
  }
}
