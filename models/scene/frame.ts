// Working image: planar float RGB (display-referred, nominally 0–1) plus per-pixel distance for haze.

export class Frame {
  readonly r: Float32Array;
  readonly g: Float32Array;
  readonly b: Float32Array;
  /** Distance ahead in metres of what each pixel shows; Infinity for sky. */
  readonly depth: Float32Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    const n = width * height;
    this.r = new Float32Array(n);
    this.g = new Float32Array(n);
    this.b = new Float32Array(n);
    this.depth = new Float32Array(n).fill(Infinity);
  }

  set(index: number, r: number, g: number, b: number): void {
    this.r[index] = r;
    this.g[index] = g;
    this.b[index] = b;
  }

  /** Interleaved 8-bit RGB. */
  toRgbBuffer(): Buffer {
    const n = this.width * this.height;
    // Uint8ClampedArray stores clamp-and-round natively.
    const out = new Uint8ClampedArray(n * 3);
    for (let i = 0, o = 0; i < n; i++, o += 3) {
      out[o] = this.r[i]! * 255;
      out[o + 1] = this.g[i]! * 255;
      out[o + 2] = this.b[i]! * 255;
    }
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }
}

export function clamp01(value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value;
}

export function smoothstep(edge0: number, edge1: number, x: number): number {
  const t = clamp01((x - edge0) / (edge1 - edge0));
  return t * t * (3 - 2 * t);
}

/**
 * Fraction of a pixel covered by a band of width `bandWidth` centred at signed distance `d` from the
 * pixel centre, when the pixel spans `extent` across the band (exact box filter).
 */
export function bandCoverage(d: number, bandWidth: number, extent: number): number {
  const half = bandWidth / 2;
  const e = extent / 2;
  const lo = d - e > -half ? d - e : -half;
  const hi = d + e < half ? d + e : half;
  return hi > lo ? (hi - lo) / extent : 0;
}
