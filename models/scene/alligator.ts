// Alligator cracking (D20): a patch of interconnected polygonal cracks (cellular borders) whose blocks
// differ slightly in tone, some broken out; it thins out irregularly toward the edge of the patch.
import type { DamagePlacement, Surface } from './damage.js';
import { bandCoverage, smoothstep } from './frame.js';
import type { PixelRect } from './ground.js';
import { cellBorder, ValueNoise, type CellBorder } from './noise.js';
import { Rng } from './random.js';

interface AlligatorShape {
  harmonics: { k: number; amp: number; phase: number }[];
  cellM: number;
  stretch: number;
  crackM: number;
  coreDark: number;
  halo: number;
  haloDark: number;
  blockTone: number;
  spalled: number;
  patchDark: number;
  noise: ValueNoise;
}

function alligatorShape(p: DamagePlacement): AlligatorShape {
  const rng = new Rng(p.seed);
  const harmonics = [];
  for (let k = 2; k <= 5; k++) harmonics.push({ k, amp: rng.range(0.03, 0.15) / k ** 0.6, phase: rng.range(0, 2 * Math.PI) });
  return {
    harmonics,
    cellM: rng.range(0.1, 0.28),
    stretch: rng.range(1, 1.5),
    crackM: rng.range(0.01, 0.025),
    coreDark: rng.range(0.5, 0.8),
    halo: rng.range(2, 3.5),
    haloDark: rng.range(0.15, 0.3),
    blockTone: rng.range(0.03, 0.12),
    spalled: rng.chance(0.6) ? rng.range(0.02, 0.15) : 0,
    patchDark: rng.range(0.03, 0.15),
    noise: new ValueNoise(p.seed, 5),
  };
}

function radius(shape: AlligatorShape, theta: number): number {
  let r = 1;
  for (const h of shape.harmonics) r += h.amp * Math.cos(h.k * theta + h.phase);
  return r;
}

export function alligatorOutline(p: DamagePlacement): number[] {
  const shape = alligatorShape(p);
  const ang = (p.angleDeg * Math.PI) / 180;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  const out: number[] = [];
  for (let k = 0; k < 36; k++) {
    const theta = (k / 36) * 2 * Math.PI;
    const r = radius(shape, theta);
    const a = Math.cos(theta) * r * p.lengthM * 0.5;
    const b = Math.sin(theta) * r * p.widthM * 0.5;
    out.push(p.xM + a * s + b * c, p.zM + a * c - b * s);
  }
  return out;
}

export function drawAlligator(surface: Surface, p: DamagePlacement): PixelRect | null {
  const { raster, frame } = surface;
  const shape = alligatorShape(p);
  const rect = raster.boundsOf(alligatorOutline(p), 2);
  if (!rect) return null;
  const ang = (p.angleDeg * Math.PI) / 180;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  const ha = p.lengthM / 2;
  const hb = p.widthM / 2;
  const cell = shape.cellM;
  // Mean darkening of a network seen from too far to resolve: crack length per area ≈ 1.85 / cell.
  const meanCover = Math.min(1, (1.85 * shape.crackM * (1 + shape.halo * shape.haloDark)) / cell);
  const cb: CellBorder = { distance: 0, nx: 1, ny: 0, cell: 0 };
  const q = { x: 0, z: 0 };
  for (let v = rect.v0; v < rect.v1; v++) {
    const fl = raster.footLat[v]!;
    const fL = raster.footLong[v]!;
    const far = smoothstep(0.35, 1, Math.sqrt(fl * fL) / cell);
    for (let i = rect.u0; i < rect.u1; i++) {
      raster.roadAt(i, v, q);
      const dx = q.x - p.xM;
      const dz = q.z - p.zM;
      const a = dx * s + dz * c;
      const b = dx * c - dz * s;
      const rho = Math.hypot(a / ha, b / hb) + 0.35 * (shape.noise.at(a * 2.5, b * 2.5) - 0.5);
      const edge = radius(shape, Math.atan2(b / hb, a / ha));
      if (rho > edge) continue;
      const mask = smoothstep(edge, edge * 0.8, rho);
      cellBorder(a / (cell * shape.stretch), b / cell, p.seed, 0.9, cb);
      const d = cb.distance * cell;
      // Border normal, local (along, across) → road (x, z), to size the pixel footprint across it.
      const nx = Math.abs(cb.nx * s + cb.ny * c);
      const nz = Math.abs(cb.nx * c - cb.ny * s);
      const extent = nx * fl + nz * fL;
      const core = bandCoverage(d, shape.crackM, extent) * shape.coreDark;
      const halo = bandCoverage(d, shape.crackM * shape.halo, extent) * shape.haloDark;
      let dark = 1 - (1 - core) * (1 - halo);
      dark = dark * (1 - far) + meanCover * shape.coreDark * far;
      const spall = cb.cell < shape.spalled ? 0.45 * (1 - far) : 0;
      const tone = (1 + (cb.cell - 0.5) * 2 * shape.blockTone * (1 - far)) * (1 - shape.patchDark) * (1 - spall);
      const k = 1 + mask * (tone * (1 - dark) - 1);
      const idx = v * raster.width + i;
      frame.r[idx]! *= k;
      frame.g[idx]! *= k;
      frame.b[idx]! *= k;
    }
  }
  return rect;
}
