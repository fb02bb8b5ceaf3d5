import sharp from 'sharp';
import { writeFileSync } from 'node:fs';
import { annotateImage } from '../agent/src/detect/annotate.js';
const img = await sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 90, g: 90, b: 95 } } }).jpeg().toBuffer();
const dets = [
  { class: 'D40', classIndex: 3, confidence: 0.87, box: [500, 400, 700, 520] as [number, number, number, number] },
  { class: 'D00', classIndex: 0, confidence: 0.41, box: [100, 10, 180, 600] as [number, number, number, number] },
  { class: 'D10', classIndex: 1, confidence: 0.66, box: [800, 300, 1279, 360] as [number, number, number, number] },
  { class: 'D20 alligator', classIndex: 2, confidence: 0.55, box: [900, 500, 1200, 700] as [number, number, number, number] },
];
for (const mode of ['font', 'bitmap'] as const) {
  const t = performance.now();
  writeFileSync(`/tmp/ann-${mode}.jpg`, await annotateImage(img, dets, { text: mode }));
  console.log(mode, performance.now() - t);
}
