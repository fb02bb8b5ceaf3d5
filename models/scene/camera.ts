// Pinhole camera over a flat road. World frame: x to the right of the lane centre, y up from the road
// surface, z ahead along the driving direction, all in metres; the camera sits at (lateralM, heightM, 0).
import type { Rng } from './random.js';

export interface CameraModel {
  /** Lens height above the road. */
  heightM: number;
  /** Downward tilt below the horizontal. */
  pitchDeg: number;
  /** Turn to the right of the driving direction (a camera mounted slightly askew, or lane changes). */
  yawDeg: number;
  /** Horizontal field of view. */
  hfovDeg: number;
  /** Camera position right of the lane centre. */
  lateralM: number;
}

export const DEFAULT_CAMERA: Readonly<CameraModel> = Object.freeze({
  heightM: 1.4,
  pitchDeg: 9,
  yawDeg: 0,
  hfovDeg: 72,
  lateralM: 0,
});

/** A dashcam-like mounting, varied per scene; explicit fields win. */
export function randomCamera(rng: Rng, overrides: Partial<CameraModel> = {}): CameraModel {
  const drawn: CameraModel = {
    heightM: rng.range(1.2, 1.6),
    pitchDeg: rng.range(6, 14),
    yawDeg: rng.normal(0, 1.5),
    hfovDeg: rng.range(62, 84),
    lateralM: rng.normal(0, 0.25),
  };
  return { ...drawn, ...definedOnly(overrides) };
}

export function definedOnly<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface ImagePoint {
  u: number;
  v: number;
  /** Distance along the optical axis. */
  depth: number;
}

export class PinholeCamera {
  readonly focalPx: number;
  readonly cx: number;
  readonly cy: number;
  /** Image row of the horizon (may be outside the image). */
  readonly horizonV: number;
  // Camera axes in world coordinates.
  private readonly right: readonly [number, number, number];
  private readonly down: readonly [number, number, number];
  private readonly forward: readonly [number, number, number];

  constructor(
    readonly model: CameraModel,
    readonly width: number,
    readonly height: number,
  ) {
    const pitch = (model.pitchDeg * Math.PI) / 180;
    const yaw = (model.yawDeg * Math.PI) / 180;
    this.focalPx = width / 2 / Math.tan((model.hfovDeg * Math.PI) / 360);
    this.cx = width / 2;
    this.cy = height / 2;
    const sp = Math.sin(pitch);
    const cp = Math.cos(pitch);
    const sy = Math.sin(yaw);
    const cy = Math.cos(yaw);
    this.right = [cy, 0, -sy];
    this.down = [-sy * sp, -cp, -cy * sp];
    this.forward = [sy * cp, -sp, cy * cp];
    this.horizonV = this.cy - this.focalPx * Math.tan(pitch);
  }

  /** Projects a world point; null when it is behind (or nearly at) the lens plane. */
  project(x: number, y: number, z: number): ImagePoint | null {
    const px = x - this.model.lateralM;
    const py = y - this.model.heightM;
    const f = this.forward;
    const depth = px * f[0] + py * f[1] + z * f[2];
    if (depth < 0.05) return null;
    const r = this.right;
    const d = this.down;
    return {
      u: this.cx + (this.focalPx * (px * r[0] + py * r[1] + z * r[2])) / depth,
      v: this.cy + (this.focalPx * (px * d[0] + py * d[1] + z * d[2])) / depth,
      depth,
    };
  }

  /**
   * The road point seen through image row `v` is affine in the column u: world
   * x = x0 + u·dx, z = z0 + u·dz. Returns null for rows at or above the horizon.
   */
  groundRow(v: number): { x0: number; dx: number; z0: number; dz: number } | null {
    const b = (v - this.cy) / this.focalPx;
    const r = this.right;
    const d = this.down;
    const f = this.forward;
    // World ray: right·a + down·b + forward, with a = (u − cx)/focal.
    const rayY = d[1] * b + f[1];
    if (rayY >= -1e-6) return null;
    const t = this.model.heightM / -rayY;
    const baseX = d[0] * b + f[0];
    const baseZ = d[2] * b + f[2];
    const k = t / this.focalPx;
    return {
      x0: this.model.lateralM + t * baseX - k * this.cx * r[0],
      dx: k * r[0],
      z0: t * baseZ - k * this.cx * r[2],
      dz: k * r[2],
    };
  }
}
