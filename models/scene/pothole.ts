// Potholes (D40): an irregular hole with a lit far wall, a shadowed near wall, gravel or standing water
// inside, a lighter rim of broken asphalt and loose chunks around it.
import type { DamagePlacement, Surface } from './damage.js';
import { clamp01, smoothstep } from './frame.js';
import type { PixelRect } from './ground.js';
import { ValueNoise } from './noise.js';
import { hash3Unit, Rng } from './random.js';

interface PotholeShape {
  harmonics: { k: number; amp: number; phase: number }[];
  darkness: number;
  wall: number;
  gravel: number;
  water: number;
  rimM: number;
  rimBright: number;
  debris: number;
  noise: ValueNoise;
}

function potholeShape(p: DamagePlacement): PotholeShape {
  const rng = new Rng(p.seed);
  const harmonics = [];
  for (let k = 2; k <= 9; k++) harmonics.push({ k, amp: (rng.range(0.04, 0.16) / Math.pow(k, 0.7)) * (k > 5 ? 0.8 : 1), phase: rng.range(0, 2 * Math.PI) });
  return {
    harmonics,
    darkness: rng.range(0.28, 0.55),
    wall: rng.range(0.3, 0.8),
    gravel: rng.range(0.2, 0.5),
    water: rng.chance(0.25) ? rng.range(0.3, 0.7) : 0,
    rimM: rng.range(0.025, 0.1),
    rimBright: rng.range(0.12, 0.45),
    debris: rng.range(0, 0.25),
    noise: new ValueNoise(p.seed, 5),
  };
}

function radius(shape: PotholeShape, theta: number): number {
  let r = 1;
  for (const h of shape.harmonics) r += h.amp * Math.cos(h.k * theta + h.phase);
  return r;
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
  const { raster, frame } = surface;
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
  const q = { x: 0, z: 0 };
  for (let v = rect.v0; v < rect.v1; v++) {
    const fp = Math.sqrt(raster.footLat[v]! * raster.footLong[v]!);
    const en = Math.max(raster.footLat[v]!, raster.footLong[v]!) / minHalf;
    const detail = clamp01(1 - fp / 0.05);
    for (let i = rect.u0; i < rect.u1; i++) {
      raster.roadAt(i, v, q);
      const dx = q.x - p.xM;
      const dz = q.z - p.zM;
      const a = (dx * s + dz * c) / ha;
      const b = (dx * c - dz * s) / hb;
      const rho = Math.hypot(a, b);
      const theta = Math.atan2(b, a);
      const edge = radius(shape, theta) + 0.06 * (shape.noise.at(theta * 5 + 20, 0.5) - 0.5);
      const sN = rho / edge;
      if (sN > 1.45 + rimN + en) continue;
      const idx = v * raster.width + i;
      let r = frame.r[idx]!;
      let g = frame.g[idx]!;
      let bl = frame.b[idx]!;
      const inside = smoothstep(1 + en * 0.5, 1 - en * 0.5, sN);
      if (inside > 0) {
        // The far wall faces the camera and catches light; the near wall is in its own shadow.
        const toward = dz / (Math.hypot(dx, dz) || 1);
        const wall = smoothstep(0.45, 1, sN) * toward * shape.wall;
        const grit = 1 + detail * shape.gravel * (shape.noise.at(q.x * 25, q.z * 25) - 0.5) * 2;
        let k = shape.darkness * (1 + wall) * grit * (0.85 + 0.3 * shape.noise.at(a * 2 + 7, b * 2));
        const water = shape.water * smoothstep(0.95, 0.6, sN);
        k = k * (1 - water) + water * 1.1;
        r += (r * k * (1 - water * 0.25) - r) * inside;
        g += (g * k - g) * inside;
        bl += (bl * k * (1 + water * 0.12) - bl) * inside;
      }
      const rimIn = smoothstep(1 - en * 0.5, 1 + en * 0.5, sN);
      const rimOut = smoothstep(1 + rimN + en * 0.5, 1 + rimN * 0.3 - en * 0.5, sN);
      let lift = rimIn * rimOut * shape.rimBright * (0.5 + shape.noise.at(theta * 9, 3.3));
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
