// Potholes (D40): an irregular hole of a few centimetres' depth. Each pixel's ray is followed below the
// surface: it lands on the gravel bottom (seen shifted toward the camera) or, near the far edge, on the
// far wall, which faces the camera and is lit when the sun is behind it. Standing water reflects the sky.
// Around the hole: a lighter rim of broken asphalt and loose chunks.
import type { DamagePlacement, Surface } from './damage.js';
import { clamp01, smoothstep } from './frame.js';
import type { PixelRect } from './ground.js';
import { ValueNoise } from './noise.js';
import { hash3Unit, Rng } from './random.js';

interface PotholeShape {
  harmonics: { k: number; amp: number; phase: number }[];
  depthM: number;
  bottom: number;
  wall: number;
  gravel: number;
  /** Water depth below the rim as a fraction of the hole depth (1 = dry). */
  waterLevel: number;
  rimM: number;
  rimBright: number;
  debris: number;
  noise: ValueNoise;
}

function potholeShape(p: DamagePlacement): PotholeShape {
  const rng = new Rng(p.seed);
  const harmonics = [];
  for (let k = 2; k <= 12; k++) harmonics.push({ k, amp: rng.range(0.03, 0.14) / Math.pow(k, 0.75), phase: rng.range(0, 2 * Math.PI) });
  return {
    harmonics,
    depthM: rng.range(0.04, 0.12),
    bottom: rng.range(0.3, 0.6),
    wall: rng.range(0.55, 0.95),
    gravel: rng.range(0.25, 0.6),
    waterLevel: rng.chance(0.2) ? rng.range(0.3, 0.8) : 1,
    rimM: rng.range(0.025, 0.1),
    rimBright: rng.range(0.1, 0.4),
    debris: rng.range(0, 0.15),
    noise: new ValueNoise(p.seed, 5),
  };
}

function radius(shape: PotholeShape, theta: number): number {
  let r = 1;
  for (const h of shape.harmonics) r += h.amp * Math.cos(h.k * theta + h.phase);
  return r + 0.05 * (shape.noise.at(theta * 6 + 20, 0.5) - 0.5);
}

/** Outline including the rim, as road x, z pairs. */
export function potholeOutline(p: DamagePlacement): number[] {
  const shape = potholeShape(p);
  const ang = (p.angleDeg * Math.PI) / 180;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  const out: number[] = [];
  for (let k = 0; k < 48; k++) {
    const theta = (k / 48) * 2 * Math.PI;
    const r = radius(shape, theta);
    const a = Math.cos(theta) * (r * p.lengthM * 0.5 + shape.rimM);
    const b = Math.sin(theta) * (r * p.widthM * 0.5 + shape.rimM);
    out.push(p.xM + a * s + b * c, p.zM + a * c - b * s);
  }
  return out;
}

export function drawPothole(surface: Surface, p: DamagePlacement): PixelRect | null {
  const { raster, frame, sun } = surface;
  const shape = potholeShape(p);
  const ang = (p.angleDeg * Math.PI) / 180;
  const maxR = 1 + shape.harmonics.reduce((sum, h) => sum + h.amp, 0) + 0.03;
  const reach = maxR * 1.5;
  const rect = raster.boundsOfBox(p.xM, p.zM, (p.lengthM / 2) * reach + shape.rimM * 2, (p.widthM / 2) * reach + shape.rimM * 2, ang, 2);
  if (!rect) return null;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  const ha = p.lengthM / 2;
  const hb = p.widthM / 2;
  const minHalf = Math.min(ha, hb);
  const rimN = shape.rimM / minHalf;
  const { heightM: camH, lateralM: camX } = raster.camera.model;
  // The far wall faces the camera (−z); it is lit when the sun is behind the camera.
  const wallLight = shape.wall * (0.75 + 0.6 * sun.strength * Math.max(-0.3, -sun.z));
  const waterDepth = shape.depthM * shape.waterLevel;
  const normalised = (x: number, z: number) => {
    const dx = x - p.xM;
    const dz = z - p.zM;
    const a = (dx * s + dz * c) / ha;
    const b = (dx * c - dz * s) / hb;
    return Math.hypot(a, b) / radius(shape, Math.atan2(b, a));
  };
  const q = { x: 0, z: 0 };
  for (let v = rect.v0; v < rect.v1; v++) {
    const fp = Math.sqrt(raster.footLat[v]! * raster.footLong[v]!);
    const en = Math.max(raster.footLat[v]!, raster.footLong[v]!) / minHalf;
    const detail = clamp01(1 - fp / 0.05);
    for (let i = rect.u0; i < rect.u1; i++) {
      raster.roadAt(i, v, q);
      const sN = normalised(q.x, q.z);
      if (sN > 1.45 + rimN + en) continue;
      const idx = v * raster.width + i;
      let r = frame.r[idx]!;
      let g = frame.g[idx]!;
      let bl = frame.b[idx]!;
      const inside = smoothstep(1 + en * 0.5, 1 - en * 0.5, sN);
      if (inside > 0) {
        // Continue the ray below the surface to the bottom (or the water surface).
        const depth = Math.min(shape.depthM, waterDepth);
        const scale = (camH + depth) / camH;
        const bx = camX + (q.x - camX) * scale;
        const bz = q.z * scale;
        const sB = normalised(bx, bz);
        let k: number;
        let wr = 0;
        let wb = 0;
        if (sB < 1) {
          const grit = 1 + detail * shape.gravel * ((shape.noise.at(bx * 28, bz * 28) - 0.5) * 1.6 + (hash3Unit(Math.floor(bx * 60), Math.floor(bz * 60), p.seed) - 0.5) * 0.8);
          k = shape.bottom * grit * (0.85 + 0.3 * shape.noise.at(bx * 3 + 7, bz * 3));
          // Shade from the wall on the sun side darkens the bottom next to it.
          k *= 1 - 0.35 * sun.strength * smoothstep(0.6, 1, sB);
          if (waterDepth < shape.depthM) {
            // Reflection grows toward grazing view angles (farther holes); the water is murky.
            const fresnel = 0.15 + 0.6 * smoothstep(3, 25, q.z);
            k = k * 0.6 * (1 - fresnel) + 1.25 * fresnel;
            wr = -0.06 * fresnel;
            wb = 0.08 * fresnel;
          }
        } else {
          // Fraction of the way down the wall where the ray meets it: deeper is darker.
          const down = clamp01((1 - sN) / Math.max(1e-6, sB - sN));
          k = wallLight * (1 - 0.45 * down) * (0.9 + 0.2 * shape.noise.at(q.x * 20 + 3, down * 4));
        }
        r += (r * k * (1 + wr) - r) * inside;
        g += (g * k - g) * inside;
        bl += (bl * k * (1 + wb) - bl) * inside;
      }
      const rimIn = smoothstep(1 - en * 0.5, 1 + en * 0.5, sN);
      const rimOut = smoothstep(1 + rimN + en * 0.5, 1 + rimN * 0.3 - en * 0.5, sN);
      let lift = rimIn * rimOut * shape.rimBright * (0.5 + shape.noise.at(q.x * 12, q.z * 12));
      // Loose chunks of broken asphalt lie around the hole.
      if (detail > 0 && sN > 1 && sN < 1.45 + rimN) {
        const chunk = hash3Unit(Math.floor(q.x * 30), Math.floor(q.z * 30), p.seed);
        if (chunk < shape.debris * (1.45 + rimN - sN)) lift += detail * (chunk < shape.debris * 0.2 ? -0.4 : 0.3);
      }
      frame.r[idx] = r * (1 + lift);
      frame.g[idx] = g * (1 + lift);
      frame.b[idx] = bl * (1 + lift);
    }
  }
  return rect;
}
