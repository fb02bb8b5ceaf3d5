// Debug previews: renders scenes with their label boxes outlined (D00 yellow, D10 cyan, D20 magenta,
// D40 red) and a 2×2 contact sheet per four scenes.
//   tsx models/scene/preview.ts --out /tmp/scenes --seed-start 1 --count 8 [--width 640 --height 360]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { encodeDebugPng } from './encode.js';
import { renderScene } from './render.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: '/tmp/roadwatch-scenes' },
    'seed-start': { type: 'string', default: '1' },
    count: { type: 'string', default: '8' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '360' },
  },
});
const out = values.out;
const start = Number(values['seed-start']);
const width = Number(values.width);
const height = Number(values.height);
mkdirSync(out, { recursive: true });
const pngs: Buffer[] = [];
for (let seed = start; seed < start + Number(values.count); seed++) {
  const t0 = performance.now();
  const scene = renderScene({ width, height, seed });
  const ms = performance.now() - t0;
  const png = await encodeDebugPng(scene);
  writeFileSync(join(out, `${seed}.png`), png);
  pngs.push(png);
  const drawn = scene.damage.map((d) => `${d.cls}@${d.zM.toFixed(1)}m`).join(' ');
  console.log(`${seed}: ${ms.toFixed(0)} ms ${scene.conditions.weather}; drawn ${drawn || '-'}; labelled ${scene.labels.map((l) => l.cls).join(' ') || '-'}`);
}
for (let k = 0; k < pngs.length; k += 4) {
  const tiles = pngs.slice(k, k + 4).map((input, n) => ({ input, left: (n % 2) * width, top: Math.floor(n / 2) * height }));
  const sheet = join(out, `sheet-${start + k}.png`);
  await sharp({ create: { width: width * 2, height: height * 2, channels: 3, background: '#000' } }).composite(tiles).png().toFile(sheet);
  console.log(`sheet ${sheet}`);
}
