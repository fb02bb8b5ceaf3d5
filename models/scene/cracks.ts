// Longitudinal (D00) and transverse (D10) cracks: a wandering main crack with a few branches, drawn as
// a dark core inside a fainter band of spalled edges. Coverage is computed against each pixel's
// footprint on the road, so a crack fades physically with distance instead of aliasing.
import type { DamagePlacement, Surface } from './damage.js';
import { bandCoverage } from './frame.js';
import type { PixelRect } from './ground.js';
import { Rng } from './random.js';

interface Polyline {
  /** x, z pairs in road coordinates. */
  points: number[];
  /** Crack opening width at each point, metres. */
  widths: number[];
}

interface CrackShape {
  lines: Polyline[];
  /** Spalled band width as a multiple of the opening. */
  halo: number;
  coreDark: number;
  haloDark: number;
}

export function crackShape(p: DamagePlacement): CrackShape {
  const rng = new Rng(p.seed);
  const sealed = rng.chance(0.15);
  // Transverse cracks are seen edge-on along the road, so only the wider ones are visible at all.
  const transverse = p.cls === 'D10';
  const baseWidth = sealed ? rng.range(0.025, 0.05) : transverse ? rng.range(0.012, 0.03) : rng.range(0.006, 0.022);
  const shape: CrackShape = {
    lines: [],
    halo: sealed ? 1.3 : transverse ? rng.range(3, 6) : rng.range(2, 5),
    coreDark: sealed ? rng.range(0.45, 0.65) : transverse ? rng.range(0.65, 0.9) : rng.range(0.55, 0.85),
    haloDark: sealed ? 0.15 : transverse ? rng.range(0.2, 0.4) : rng.range(0.1, 0.3),
  };
  const wobble = rng.range(0.12, 0.4);
  const half = p.widthM / 2;
  const step = Math.min(0.08, Math.max(0.03, p.lengthM / 50));
  const main = walk(rng, -p.lengthM / 2, rng.range(-half, half) * 0.5, rng.normal(0, 0.2), p.lengthM, step, wobble, half, baseWidth);
  shape.lines.push(main.line);
  const branches = rng.int(0, 3);
  for (let k = 0; k < branches; k++) {
    const at = Math.floor(main.local.length / 2 * rng.range(0.1, 0.9)) * 2;
    const a = main.local[at] ?? 0;
    const b = main.local[at + 1] ?? 0;
    const turn = rng.range(0.4, 1.1) * (rng.chance(0.5) ? 1 : -1);
    const length = p.lengthM * rng.range(0.1, 0.3);
    shape.lines.push(walk(rng, a, b, turn, length, step, wobble, Infinity, baseWidth * 0.6).line);
  }
  for (const line of shape.lines) toRoad(p, line.points);
  return shape;
}

/** Random walk in local (along, across) coordinates, steering back inside ±half across. */
function walk(rng: Rng, a: number, b: number, heading: number, length: number, step: number, wobble: number, half: number, width: number) {
  const local: number[] = [a, b];
  const widths: number[] = [];
  const count = Math.max(2, Math.ceil(length / step));
  const base = heading;
  let h = heading;
  let widthWalk = 1;
  for (let k = 1; k <= count; k++) {
    const pull = Number.isFinite(half) && half > 0 ? 0.4 * (b / half) : 0;
    h = base + 0.7 * (h - base) + rng.normal(0, wobble) - pull;
    h = Math.max(base - 1, Math.min(base + 1, h));
    a += step * Math.cos(h);
    b += step * Math.sin(h);
    if (Number.isFinite(half)) b = Math.max(-half, Math.min(half, b));
    local.push(a, b);
  }
  for (let k = 0; k <= count; k++) {
    widthWalk = Math.max(0.5, Math.min(1.5, widthWalk + rng.normal(0, 0.12)));
    const fromEnd = Math.min(k, count - k) / count;
    const taper = Math.max(0.25, Math.min(1, Math.sqrt(fromEnd / 0.15)));
    widths.push(width * widthWalk * taper);
  }
  return { local, line: { points: [...local], widths } };
}

function toRoad(p: DamagePlacement, points: number[]): void {
  const ang = (p.angleDeg * Math.PI) / 180;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  for (let k = 0; k + 1 < points.length; k += 2) {
    const a = points[k]!;
    const b = points[k + 1]!;
    points[k] = p.xM + a * s + b * c;
    points[k + 1] = p.zM + a * c - b * s;
  }
}

/** Each crack line (main and branches) as x, z pairs. */
export function crackOutline(p: DamagePlacement): number[][] {
  return crackShape(p).lines.map((line) => line.points);
}

export function drawCrack(surface: Surface, p: DamagePlacement): PixelRect | null {
  const shape = crackShape(p);
  const { raster, scratch, frame } = surface;
  const touched: PixelRect = { u0: Infinity, v0: Infinity, u1: -Infinity, v1: -Infinity };
  const q = { x: 0, z: 0 };
  for (const line of shape.lines) {
    const pts = line.points;
    for (let k = 0; k + 3 < pts.length; k += 2) {
      const x0 = pts[k]!;
      const z0 = pts[k + 1]!;
      const x1 = pts[k + 2]!;
      const z1 = pts[k + 3]!;
      const w0 = line.widths[k / 2]!;
      const w1 = line.widths[k / 2 + 1]!;
      const reach = (Math.max(w0, w1) * shape.halo) / 2 + 0.01;
      const rect = raster.boundsOf([x0 - reach, z0 - reach, x0 + reach, z0 + reach, x1 - reach, z1 - reach, x1 + reach, z1 + reach], 1);
      if (!rect) continue;
      grow(touched, rect);
      const sx = x1 - x0;
      const sz = z1 - z0;
      const len2 = sx * sx + sz * sz || 1e-12;
      const len = Math.sqrt(len2);
      const nx = Math.abs(sz / len);
      const nz = Math.abs(sx / len);
      for (let v = rect.v0; v < rect.v1; v++) {
        const extent = nx * raster.footLat[v]! + nz * raster.footLong[v]!;
        for (let i = rect.u0; i < rect.u1; i++) {
          raster.roadAt(i, v, q);
          let t = ((q.x - x0) * sx + (q.z - z0) * sz) / len2;
          t = t < 0 ? 0 : t > 1 ? 1 : t;
          const d = Math.hypot(q.x - x0 - t * sx, q.z - z0 - t * sz);
          const w = w0 + (w1 - w0) * t;
          if (d > w * shape.halo + extent) continue;
          const core = bandCoverage(d, w, extent) * shape.coreDark;
          const halo = bandCoverage(d, w * shape.halo, extent) * shape.haloDark;
          const dark = 1 - (1 - core) * (1 - halo);
          const idx = v * raster.width + i;
          if (dark > scratch[idx]!) scratch[idx] = dark;
        }
      }
    }
  }
  if (touched.u1 < touched.u0) return null;
  applyDarkening(frame, scratch, touched);
  return touched;
}

function grow(into: PixelRect, rect: PixelRect): void {
  into.u0 = Math.min(into.u0, rect.u0);
  into.v0 = Math.min(into.v0, rect.v0);
  into.u1 = Math.max(into.u1, rect.u1);
  into.v1 = Math.max(into.v1, rect.v1);
}

/** Multiplies the albedo by (1 − scratch) inside rect and zeroes the scratch again. */
export function applyDarkening(frame: { r: Float32Array; g: Float32Array; b: Float32Array; width: number }, scratch: Float32Array, rect: PixelRect): void {
  for (let v = rect.v0; v < rect.v1; v++) {
    for (let i = rect.u0, idx = v * frame.width + rect.u0; i < rect.u1; i++, idx++) {
      const d = scratch[idx]!;
      if (d === 0) continue;
      const k = 1 - d;
      frame.r[idx]! *= k;
      frame.g[idx]! *= k;
      frame.b[idx]! *= k;
      scratch[idx] = 0;
    }
  }
}
