import type { Frame } from './frame-source.js';

/** A frame (raw RGB) as a JPEG: what the detector sees, after scaling. sharp is loaded on first use. */
export async function frameToJpeg(frame: Pick<Frame, 'rgb' | 'width' | 'height'>, quality = 90): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
