// Light and camera: sun and shadow, wet-road darkening and sky reflections, haze, exposure and white
// balance, vignetting, motion blur and sensor noise.
import type { SceneConditions } from './conditions.js';
import { smoothstep, type Frame } from './frame.js';
import type { GroundRaster } from './ground.js';
import { ValueNoise } from './noise.js';
import { deriveSeed, Rng } from './random.js';
import { skyColour } from './sky.js';

const SUN_LEVEL: Record<SceneConditions['weather'], number> = { sun: 1.12, overcast: 0.95, wet: 0.85, haze: 1 };

/** Lights the ground (every pixel with a finite distance at this point); only the pavement gets wet sheen. */
export function applyLighting(frame: Frame, raster: GroundRaster, shadow: Float32Array, conditions: SceneConditions, edges: [number, number], seed: number, roadOffsetM: number): void {
  const level = SUN_LEVEL[conditions.weather];
  const strength = conditions.shadowStrength;
  const wet = conditions.wetness;
  const [hr, hg, hb] = skyColour(conditions).horizon;
  const puddles = new ValueNoise(deriveSeed(seed, 'puddles'), 6);
  const q = { x: 0, z: 0 };
  for (let v = raster.firstRow; v < raster.height; v++) {
    for (let i = 0, idx = v * frame.width; i < frame.width; i++, idx++) {
      const m = shadow[idx]!;
      const light = level * (1 - strength * m);
      let r = frame.r[idx]! * light * (1 - 0.06 * m * strength);
      let g = frame.g[idx]! * light;
      let b = frame.b[idx]! * light * (1 + 0.08 * m * strength);
      if (wet > 0 && raster.roadAt(i, v, q).x > edges[0] && q.x < edges[1]) {
        const puddle = smoothstep(0.5, 0.75, puddles.at(q.x * 0.8, (q.z + roadOffsetM) * 0.5));
        const dark = 1 - 0.4 * wet;
        // Reflections strengthen toward grazing angles (far away) and in puddles.
        const spec = wet * (0.04 + 0.4 * smoothstep(4, 60, q.z)) * (0.35 + 0.65 * puddle);
        r = r * dark * (1 - spec) + hr * spec;
        g = g * dark * (1 - spec) + hg * spec;
        b = b * dark * (1 - spec) + hb * spec;
      }
      frame.set(idx, r, g, b);
    }
  }
}

/** Blends toward the horizon colour with distance (Koschmieder: contrast 2% at the visibility). */
export function applyHaze(frame: Frame, conditions: SceneConditions): void {
  const beta = 3.9 / conditions.visibilityM;
  const [hr, hg, hb] = skyColour(conditions).horizon;
  const n = frame.width * frame.height;
  for (let idx = 0; idx < n; idx++) {
    const d = frame.depth[idx]!;
    if (d === Infinity) continue;
    const f = 1 - Math.exp(-beta * d);
    frame.r[idx] = frame.r[idx]! + (hr - frame.r[idx]!) * f;
    frame.g[idx] = frame.g[idx]! + (hg - frame.g[idx]!) * f;
    frame.b[idx] = frame.b[idx]! + (hb - frame.b[idx]!) * f;
  }
}

/** Exposure, white balance, contrast, vignetting and a soft highlight shoulder. */
export function applyCamera(frame: Frame, conditions: SceneConditions): void {
  const { width, height } = frame;
  const [wr, wg, wb] = conditions.whiteBalance;
  const gain = conditions.exposure;
  const contrast = conditions.contrast;
  const vig = conditions.vignette;
  const half2 = (width * width + height * height) / 4;
  for (let v = 0; v < height; v++) {
    const dy = v + 0.5 - height / 2;
    for (let i = 0, idx = v * width; i < width; i++, idx++) {
      const dx = i + 0.5 - width / 2;
      const k = gain * (1 - vig * ((dx * dx + dy * dy) / half2));
      frame.r[idx] = tone(frame.r[idx]! * k * wr, contrast);
      frame.g[idx] = tone(frame.g[idx]! * k * wg, contrast);
      frame.b[idx] = tone(frame.b[idx]! * k * wb, contrast);
    }
  }
}

function tone(x: number, contrast: number): number {
  const y = 0.45 + (x - 0.45) * contrast;
  return y < 0.8 ? y : 0.8 + 0.2 * Math.tanh((y - 0.8) / 0.2);
}

/** Box blur along one axis. */
export function motionBlur(frame: Frame, lengthPx: number, axis: 'horizontal' | 'vertical'): void {
  const n = Math.round(lengthPx);
  if (n < 2) return;
  const { width, height } = frame;
  const [lines, span, stride, step] = axis === 'horizontal' ? [height, width, width, 1] : [width, height, 1, width];
  const tmp = new Float32Array(span);
  const before = Math.floor((n - 1) / 2);
  for (const plane of [frame.r, frame.g, frame.b]) {
    for (let line = 0; line < lines; line++) {
      const start = line * stride;
      for (let k = 0; k < span; k++) tmp[k] = plane[start + k * step]!;
      let sum = 0;
      // Window [k − before, k − before + n), clamped at the edges.
      for (let j = -before; j < n - before; j++) sum += tmp[Math.min(span - 1, Math.max(0, j))]!;
      for (let k = 0; k < span; k++) {
        plane[start + k * step] = sum / n;
        sum += tmp[Math.min(span - 1, k - before + n)]! - tmp[Math.max(0, k - before)]!;
      }
    }
  }
}

/** Signal-dependent luminance noise plus weaker chroma noise. */
export function addSensorNoise(frame: Frame, sigma: number, seed: number): void {
  if (sigma <= 0) return;
  const rng = new Rng(seed);
  // Gaussian deviates from a table, three 10-bit indices per 32-bit draw: per-pixel Box–Muller is slow.
  const table = new Float32Array(1024);
  for (let k = 0; k < table.length; k++) table[k] = rng.normal();
  const n = frame.width * frame.height;
  for (let idx = 0; idx < n; idx++) {
    const bits = (rng.next() * 1073741824) | 0;
    const y = frame.g[idx]!;
    const s = sigma * (0.5 + Math.sqrt(y > 0 ? y : 0));
    const lum = s * table[bits & 1023]!;
    frame.r[idx] = frame.r[idx]! + lum + s * 0.3 * table[(bits >>> 10) & 1023]!;
    frame.g[idx] = y + lum;
    frame.b[idx] = frame.b[idx]! + lum + s * 0.3 * table[(bits >>> 20) & 1023]!;
  }
}
