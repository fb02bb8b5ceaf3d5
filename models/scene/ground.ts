// The road surface as the image sees it: for every image row below the horizon, the affine map from
// column to road coordinates and the pixel footprint on the road (for anti-aliasing and texture LOD).
// Road coordinates follow the lane: xr = world x minus the lane's curve offset at that distance.
import type { PinholeCamera } from './camera.js';

/** Half-open pixel rectangle [u0, u1) × [v0, v1). */
export interface PixelRect {
  u0: number;
  v0: number;
  u1: number;
  v1: number;
}

export interface RoadPoint {
  x: number;
  z: number;
}

export class GroundRaster {
  readonly width: number;
  readonly height: number;
  /** First image row that shows the road (rows above are sky or background). */
  readonly firstRow: number;
  // Per row: world x and z of pixel centres are x0 + i·dx and z0 + i·dz for column i.
  readonly x0: Float64Array;
  readonly dx: Float64Array;
  readonly z0: Float64Array;
  readonly dz: Float64Array;
  /** Metres of road covered by one pixel across (u) and along (v) the image, per row. */
  readonly footLat: Float32Array;
  readonly footLong: Float32Array;
  /** A road distance just nearer than anything the image shows (the bottom edge, less a margin). */
  readonly nearZ: number;

  constructor(
    readonly camera: PinholeCamera,
    /** Lane curvature (1/m, + bends right); the lane centre is offset by curvature·z²/2. */
    readonly curvature: number,
  ) {
    const { width, height } = camera;
    this.width = width;
    this.height = height;
    this.x0 = new Float64Array(height);
    this.dx = new Float64Array(height);
    this.z0 = new Float64Array(height);
    this.dz = new Float64Array(height);
    this.footLat = new Float32Array(height);
    this.footLong = new Float32Array(height);
    // Rows within half a pixel of the horizon map to absurd distances; start below them.
    let first = Math.max(0, Math.ceil(camera.horizonV + 0.5));
    for (let v = height - 1; v >= first; v--) {
      const row = camera.groundRow(v + 0.5);
      if (!row) {
        first = v + 1;
        break;
      }
      this.x0[v] = row.x0 + 0.5 * row.dx;
      this.dx[v] = row.dx;
      this.z0[v] = row.z0 + 0.5 * row.dz;
      this.dz[v] = row.dz;
      this.footLat[v] = Math.hypot(row.dx, row.dz);
      const next = camera.groundRow(v + 1.5);
      const zc = row.z0 + camera.cx * row.dz;
      this.footLong[v] = next ? Math.max(this.footLat[v]!, Math.abs(zc - (next.z0 + camera.cx * next.dz))) : 1e6;
    }
    this.firstRow = Math.min(first, height);
    const bottom = height - 1;
    this.nearZ = this.firstRow < height ? 0.95 * Math.min(this.z0[bottom]! - 0.5 * this.dz[bottom]!, this.z0[bottom]! + (width - 0.5) * this.dz[bottom]!) : 1;
  }

  /** Lateral offset of the lane centre at distance z. */
  laneOffset(z: number): number {
    return 0.5 * this.curvature * z * z;
  }

  /** Road coordinates of the centre of pixel (i, v); v must be a ground row. */
  roadAt(i: number, v: number, out: RoadPoint): RoadPoint {
    const z = this.z0[v]! + i * this.dz[v]!;
    out.z = z;
    out.x = this.x0[v]! + i * this.dx[v]! - 0.5 * this.curvature * z * z;
    return out;
  }

  /** Image position of a point given in road coordinates (y up from the surface). */
  project(xr: number, z: number, y = 0) {
    return this.camera.project(xr + this.laneOffset(z), y, z);
  }

  /**
   * Ground pixels that can show any of the given road points (x, z pairs) plus a margin. Points nearer
   * than the image shows are pulled forward to `nearZ` (just below the image), which keeps the
   * rectangle conservative without blowing it up sideways.
   */
  boundsOf(points: ArrayLike<number>, marginPx = 2): PixelRect | null {
    let u0 = Infinity;
    let v0 = Infinity;
    let u1 = -Infinity;
    let v1 = -Infinity;
    for (let k = 0; k + 1 < points.length; k += 2) {
      const p = this.project(points[k]!, Math.max(this.nearZ, points[k + 1]!));
      if (!p) continue;
      if (p.u < u0) u0 = p.u;
      if (p.u > u1) u1 = p.u;
      if (p.v < v0) v0 = p.v;
      if (p.v > v1) v1 = p.v;
    }
    return this.clip(u0 - marginPx, v0 - marginPx, u1 + marginPx, v1 + marginPx);
  }

  /** Bounds of a rotated road-space rectangle: centre, half extents along/across its axis, angle from +z. */
  boundsOfBox(cx: number, cz: number, halfAlong: number, halfAcross: number, angleRad: number, marginPx = 2): PixelRect | null {
    return this.boundsOf(boxOutline(cx, cz, halfAlong, halfAcross, angleRad), marginPx);
  }

  private clip(u0: number, v0: number, u1: number, v1: number): PixelRect | null {
    const rect = {
      u0: Math.max(0, Math.floor(u0)),
      v0: Math.max(this.firstRow, Math.floor(v0)),
      u1: Math.min(this.width, Math.ceil(u1)),
      v1: Math.min(this.height, Math.ceil(v1)),
    };
    return rect.u1 > rect.u0 && rect.v1 > rect.v0 ? rect : null;
  }
}

/**
 * Outline of a rotated rectangle as x, z pairs, with points along each edge so that curvature and
 * perspective cannot bulge the shape outside its bounds.
 */
export function boxOutline(cx: number, cz: number, halfAlong: number, halfAcross: number, angleRad: number, perEdge = 4): number[] {
  const s = Math.sin(angleRad);
  const c = Math.cos(angleRad);
  const corners: [number, number][] = [
    [-halfAlong, -halfAcross],
    [halfAlong, -halfAcross],
    [halfAlong, halfAcross],
    [-halfAlong, halfAcross],
  ];
  const out: number[] = [];
  for (let k = 0; k < 4; k++) {
    const [a0, b0] = corners[k]!;
    const [a1, b1] = corners[(k + 1) % 4]!;
    for (let t = 0; t < perEdge; t++) {
      const a = a0 + ((a1 - a0) * t) / perEdge;
      const b = b0 + ((b1 - b0) * t) / perEdge;
      // Local (along, across) → road: along follows the angle from +z toward +x.
      out.push(cx + a * s + b * c, cz + a * c - b * s);
    }
  }
  return out;
}

/** Visits the ground pixels of a rectangle with their road coordinates (written into `p`) and footprint. */
export function forPixels(raster: GroundRaster, rect: PixelRect, p: RoadPoint, visit: (idx: number, footprint: number) => void): void {
  for (let v = rect.v0; v < rect.v1; v++) {
    const fp = Math.sqrt(raster.footLat[v]! * raster.footLong[v]!);
    for (let i = rect.u0; i < rect.u1; i++) {
      raster.roadAt(i, v, p);
      visit(v * raster.width + i, fp);
    }
  }
}
