import sharp from 'sharp';
import type { ImageInput } from './detector.js';
import { DetectError } from './errors.js';
import { letterbox, type Letterbox } from './letterbox.js';

/** ultralytics pads with grey 114. */
const PAD = { r: 114, g: 114, b: 114 };

export interface PreprocessOptions {
  /** Images with more pixels are refused before decoding. */
  maxPixels: number;
}

export interface Preprocessed {
  frame: { w: number; h: number };
  letterbox: Letterbox;
}

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error)).trim();
const megapixels = (pixels: number): string => `${(pixels / 1e6).toFixed(1)} MP`;

function checkPixels(w: number, h: number, maxPixels: number): void {
  if (w * h > maxPixels) {
    throw new DetectError(
      `image is ${w}×${h} (${megapixels(w * h)}), over the detector.maxPixels limit of ${maxPixels} (${megapixels(maxPixels)})`,
      'scale the image down or raise detector.maxPixels',
    );
  }
}

/** Opens the image and reads its size from the header only; nothing is decoded yet. */
async function open(image: ImageInput, maxPixels: number): Promise<{ pipeline: sharp.Sharp; frame: { w: number; h: number } }> {
  if (!(image instanceof Uint8Array)) {
    const { data, width, height, channels } = image;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new DetectError(`raw image size ${width}×${height} is not a positive whole number of pixels`);
    }
    checkPixels(width, height, maxPixels);
    if (data.length !== width * height * channels) {
      throw new DetectError(
        `raw image has ${data.length} bytes, expected ${width}×${height}×${channels} = ${width * height * channels}`,
        'pass interleaved 8-bit RGB or RGBA pixels with their width, height and channel count',
      );
    }
    return { pipeline: sharp(data, { raw: { width, height, channels }, limitInputPixels: maxPixels }), frame: { w: width, h: height } };
  }
  if (image.length === 0) throw new DetectError('empty image (0 bytes)', 'check the camera or the file; a frame must be a JPEG, PNG or WebP');
  let meta: sharp.Metadata;
  try {
    // limitInputPixels 0 here: the header is read only, the size is checked below with a clear message.
    meta = await sharp(image, { limitInputPixels: 0 }).metadata();
  } catch (error) {
    throw new DetectError(`not an image (${reason(error)})`, 'pass a JPEG, PNG or WebP file');
  }
  const w = meta.autoOrient?.width ?? meta.width;
  const h = meta.autoOrient?.height ?? meta.height;
  if (!w || !h) throw new DetectError(`not an image (${meta.format ?? 'unknown'} without a size)`, 'pass a JPEG, PNG or WebP file');
  checkPixels(w, h, maxPixels);
  const pipeline = sharp(image, { failOn: 'truncated', limitInputPixels: maxPixels, autoOrient: true, sequentialRead: true });
  return { pipeline, frame: { w, h } };
}

/**
 * Decodes one image, letterboxes it into the model input (aspect kept, grey padding), and writes
 * it into `target` as CHW float32 in [0, 1], RGB order. The size is checked from the header before
 * any decoding, so a 100-megapixel file never reaches memory. Decoding and resizing run on
 * libvips' threads, not on the caller's event loop.
 */
export async function preprocess(
  image: ImageInput,
  input: { width: number; height: number },
  target: Float32Array,
  { maxPixels }: PreprocessOptions,
): Promise<Preprocessed> {
  const plane = input.width * input.height;
  if (target.length !== 3 * plane) throw new RangeError(`target holds ${target.length} values, expected 3×${input.width}×${input.height}`);
  const { pipeline, frame } = await open(image, maxPixels);
  const lb = letterbox(frame, input);
  const { left, top, right, bottom } = lb.pad;
  pipeline.removeAlpha().toColourspace('srgb').resize(lb.resized.w, lb.resized.h, { fit: 'fill', kernel: 'linear' });
  if (left || top || right || bottom) pipeline.extend({ left, top, right, bottom, background: PAD });
  let pixels: { data: Buffer; info: sharp.OutputInfo };
  try {
    pixels = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    const text = reason(error);
    const truncated = /premature|truncat|end of (input|file)|incomplete/i.test(text);
    throw new DetectError(
      truncated ? `truncated image (${text})` : `cannot decode image (${text})`,
      truncated ? 'the file or frame was cut short; check the camera stream or copy the file again' : 'pass a valid JPEG, PNG or WebP file',
    );
  }
  const { data, info } = pixels;
  if (info.width !== input.width || info.height !== input.height || info.channels !== 3) {
    throw new DetectError(`preprocessing produced ${info.width}×${info.height}×${info.channels}, expected ${input.width}×${input.height}×3`);
  }
  // HWC uint8 → CHW float32 / 255.
  for (let i = 0, p = 0; p < plane; p++, i += 3) {
    target[p] = data[i]! / 255;
    target[plane + p] = data[i + 1]! / 255;
    target[2 * plane + p] = data[i + 2]! / 255;
  }
  return { frame, letterbox: lb };
}
