// Image encoding with sharp, and a debug overlay of the label boxes.
import sharp from 'sharp';
import type { RenderedScene } from './render.js';

/** JPEG of the scene; quality defaults to the scene's drawn jpegQuality (55–95). */
export async function encodeJpeg(scene: RenderedScene, quality?: number): Promise<Buffer> {
  const q = Math.round(quality ?? scene.conditions?.jpegQuality ?? 85);
  return raw(scene.rgb, scene).jpeg({ quality: Math.min(100, Math.max(1, q)) }).toBuffer();
}

export async function encodePng(scene: RenderedScene): Promise<Buffer> {
  return raw(scene.rgb, scene).png({ compressionLevel: 3 }).toBuffer();
}

const BOX_COLOURS: readonly [number, number, number][] = [
  [255, 230, 0], // D00
  [0, 220, 255], // D10
  [255, 0, 220], // D20
  [255, 40, 40], // D40
];

/** A PNG of the scene with each label box outlined in its class colour (D00 yellow, D10 cyan, D20 magenta, D40 red). */
export async function encodeDebugPng(scene: RenderedScene): Promise<Buffer> {
  const rgb = Buffer.from(scene.rgb);
  for (const label of scene.labels) {
    const colour = BOX_COLOURS[label.classIndex] ?? [255, 255, 255];
    const [x1, y1, x2, y2] = label.box.map(Math.round) as [number, number, number, number];
    const set = (x: number, y: number) => {
      if (x < 0 || y < 0 || x >= scene.width || y >= scene.height) return;
      rgb.set(colour, (y * scene.width + x) * 3);
    };
    for (let x = x1; x <= x2; x++) {
      set(x, y1 - 1);
      set(x, y2);
    }
    for (let y = y1; y <= y2; y++) {
      set(x1 - 1, y);
      set(x2, y);
    }
  }
  return raw(rgb, scene).png({ compressionLevel: 3 }).toBuffer();
}

function raw(rgb: Buffer, scene: RenderedScene) {
  return sharp(rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } });
}
