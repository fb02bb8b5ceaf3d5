// Procedural noise for textures: value noise on a seeded square lattice (tiled; octaves are offset so
// the tiling never lines up) and cellular borders for the alligator-crack network.
import { Rng, hash3Unit } from './random.js';

export class ValueNoise {
  private readonly lattice: Float32Array;
  private readonly shift: number;
  private readonly mask: number;

  /** `sizeLog2` sets the lattice period (2^n cells); small objects can use a small lattice. */
  constructor(seed: number, sizeLog2 = 8) {
    const size = 1 << sizeLog2;
    this.shift = sizeLog2;
    this.mask = size - 1;
    this.lattice = new Float32Array(size * size);
    const rng = new Rng(seed);
    for (let i = 0; i < this.lattice.length; i++) this.lattice[i] = rng.next();
  }

  /** Smooth noise in [0, 1]. */
  at(x: number, y: number): number {
    const xf = Math.floor(x);
    const yf = Math.floor(y);
    let tx = x - xf;
    let ty = y - yf;
    tx = tx * tx * (3 - 2 * tx);
    ty = ty * ty * (3 - 2 * ty);
    const mask = this.mask;
    const x0 = xf & mask;
    const x1 = (xf + 1) & mask;
    const r0 = (yf & mask) << this.shift;
    const r1 = ((yf + 1) & mask) << this.shift;
    const l = this.lattice;
    const a = l[r0 + x0]!;
    const b = l[r0 + x1]!;
    const c = l[r1 + x0]!;
    const d = l[r1 + x1]!;
    const top = a + (b - a) * tx;
    return top + (c + (d - c) * tx - top) * ty;
  }

  /**
   * Fractal sum around 0 (about −1..1) starting at `wavelength` and halving it per octave. Octaves
   * finer than ~2 pixel footprints are faded out: they would only alias into shimmer.
   */
  fbm(x: number, y: number, wavelength: number, octaves: number, footprint: number): number {
    let sum = 0;
    let norm = 0;
    let amp = 1;
    let freq = 1 / wavelength;
    let lambda = wavelength;
    for (let o = 0; o < octaves; o++) {
      norm += amp;
      const fade = (lambda / footprint - 1.5) * 0.5;
      if (fade > 0) {
        const w = fade > 1 ? amp : amp * fade;
        sum += w * (this.at(x * freq + o * 37.17, y * freq + o * 91.31) * 2 - 1);
      }
      amp *= 0.5;
      freq *= 2;
      lambda *= 0.5;
    }
    return sum / norm;
  }
}

export interface CellBorder {
  /** Distance to the nearest cell border, in cell units. */
  distance: number;
  /** Unit normal of that border (x, y), for footprint-aware anti-aliasing. */
  nx: number;
  ny: number;
  /** Hash of the cell the point lies in, in [0, 1). */
  cell: number;
}

/**
 * Distance to the border of a jittered-grid Voronoi diagram (two-pass method: nearest site first,
 * then the distance to each bisector with a neighbour). Writes into `out` to avoid allocation.
 */
export function cellBorder(x: number, y: number, seed: number, jitter: number, out: CellBorder): CellBorder {
  const ix = Math.floor(x);
  const iy = Math.floor(y);
  const fx = x - ix;
  const fy = y - iy;
  let best = 8;
  let mrx = 0;
  let mry = 0;
  let mcx = 0;
  let mcy = 0;
  for (let j = -1; j <= 1; j++) {
    for (let i = -1; i <= 1; i++) {
      const rx = i + site(ix + i, iy + j, seed, 0, jitter) - fx;
      const ry = j + site(ix + i, iy + j, seed, 1, jitter) - fy;
      const d = rx * rx + ry * ry;
      if (d < best) {
        best = d;
        mrx = rx;
        mry = ry;
        mcx = i;
        mcy = j;
      }
    }
  }
  let border = 8;
  let nx = 1;
  let ny = 0;
  for (let j = -2; j <= 2; j++) {
    for (let i = -2; i <= 2; i++) {
      const cx = mcx + i;
      const cy = mcy + j;
      if (i === 0 && j === 0) continue;
      const rx = cx + site(ix + cx, iy + cy, seed, 0, jitter) - fx;
      const ry = cy + site(ix + cx, iy + cy, seed, 1, jitter) - fy;
      const dx = rx - mrx;
      const dy = ry - mry;
      const len2 = dx * dx + dy * dy;
      if (len2 < 1e-9) continue;
      const len = Math.sqrt(len2);
      const d = (0.5 * (mrx + rx) * dx + 0.5 * (mry + ry) * dy) / len;
      if (d < border) {
        border = d;
        nx = dx / len;
        ny = dy / len;
      }
    }
  }
  out.distance = border;
  out.nx = nx;
  out.ny = ny;
  out.cell = hash3Unit(ix + mcx, iy + mcy, seed ^ 0x5bd1e995);
  return out;
}

function site(ix: number, iy: number, seed: number, axis: number, jitter: number): number {
  return 0.5 + jitter * (hash3Unit(ix * 2 + axis, iy, seed) - 0.5);
}
