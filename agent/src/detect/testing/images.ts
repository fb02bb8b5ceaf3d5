import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** A solid-colour JPEG (no pure white: the fixture models fail on a 255 pixel). */
export function solidJpeg(width: number, height: number, rgb: [number, number, number] = [200, 100, 50]): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A PNG of `width`×`height`, left half red, right half blue. */
export function halvesPng(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      if (x < width / 2) raw[i] = 250;
      else raw[i + 2] = 250;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** A valid small PNG whose header claims `width`×`height` (CRC fixed): a decompression-bomb stand-in. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } }).png().toBuffer());
  // signature (8) | IHDR length (4) | "IHDR" (4) | width (4) | height (4) | … | CRC over type + data (13 bytes)
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}
