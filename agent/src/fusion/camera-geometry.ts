// The pinhole camera over a flat road, with the same conventions as the scene renderer
// (models/scene/camera.ts): world x to the right, y up from the road, z ahead along the driving
// direction; the lens at (lateralM, heightM, 0); pitch tilts down, yaw turns right; focal length from
// the horizontal FOV with the principal point at the image centre; continuous pixel coordinates with
// (0,0) at the top-left corner of the image (pixel i spans [i, i+1)). A scene `CameraModel` can be
// passed wherever a `CameraGeometry` is expected. `forwardM` is ours: the scene puts the lens at z = 0,
// the agent measures positions from the GPS antenna, so the lens sits `forwardM` ahead of it.

export interface CameraGeometry {
  /** Lens height above the road. */
  heightM: number;
  /** Downward tilt below the horizontal. */
  pitchDeg: number;
  /** Horizontal field of view of the full frame. */
  hfovDeg: number;
  /** Turn to the right of the driving direction; 0 when omitted. */
  yawDeg?: number;
  /** Lens right of the GPS antenna (the scene: right of the lane centre); 0 when omitted. */
  lateralM?: number;
  /** Lens ahead of the GPS antenna; 0 when omitted. */
  forwardM?: number;
}

export interface ImageSize {
  w: number;
  h: number;
}

/** A point on the road in the vehicle frame: metres right of the antenna and ahead of the lens plane. */
export interface GroundPoint {
  xM: number;
  zM: number;
}

export interface ImagePoint {
  u: number;
  v: number;
}

type Vec3 = readonly [number, number, number];

/** The camera resolved for one image size. */
export interface Pinhole {
  readonly geometry: CameraGeometry;
  readonly image: ImageSize;
  readonly focalPx: number;
  readonly cx: number;
  readonly cy: number;
  /** Image row of the horizon; rows at or above it never meet the road. */
  readonly horizonV: number;
  readonly right: Vec3;
  readonly down: Vec3;
  readonly forward: Vec3;
}

const RAD = Math.PI / 180;

/** Throws a RangeError naming the field for a camera no road can be seen through. */
export function assertCameraGeometry(geometry: CameraGeometry): void {
  if (!(geometry.heightM > 0)) throw new RangeError(`camera heightM must be > 0 (got ${geometry.heightM})`);
  if (!(geometry.hfovDeg > 0 && geometry.hfovDeg < 180)) throw new RangeError(`camera hfovDeg must be in (0, 180) (got ${geometry.hfovDeg})`);
  if (!(Math.abs(geometry.pitchDeg) < 90)) throw new RangeError(`camera pitchDeg must be in (-90, 90) (got ${geometry.pitchDeg})`);
}

export function pinhole(geometry: CameraGeometry, image: ImageSize): Pinhole {
  assertCameraGeometry(geometry);
  if (!(image.w > 0 && image.h > 0)) throw new RangeError(`image size must be positive (got ${image.w}×${image.h})`);
  const pitch = geometry.pitchDeg * RAD;
  const yaw = (geometry.yawDeg ?? 0) * RAD;
  const sp = Math.sin(pitch);
  const cp = Math.cos(pitch);
  const sy = Math.sin(yaw);
  const cy = Math.cos(yaw);
  const focalPx = image.w / 2 / Math.tan((geometry.hfovDeg * RAD) / 2);
  return {
    geometry,
    image,
    focalPx,
    cx: image.w / 2,
    cy: image.h / 2,
    horizonV: image.h / 2 - focalPx * Math.tan(pitch),
    right: [cy, 0, -sy],
    down: [-sy * sp, -cp, -cy * sp],
    forward: [sy * cp, -sp, cy * cp],
  };
}

/** Where a road point appears in the image; null when it is behind (or nearly at) the lens plane. */
export function projectToImage(cam: Pinhole, point: GroundPoint, heightAboveRoadM = 0): ImagePoint | null {
  const px = point.xM - (cam.geometry.lateralM ?? 0);
  const py = heightAboveRoadM - cam.geometry.heightM;
  const pz = point.zM;
  const { right: r, down: d, forward: f } = cam;
  const depth = px * f[0] + py * f[1] + pz * f[2];
  if (depth < 0.05) return null;
  return {
    u: cam.cx + (cam.focalPx * (px * r[0] + py * r[1] + pz * r[2])) / depth,
    v: cam.cy + (cam.focalPx * (px * d[0] + py * d[1] + pz * d[2])) / depth,
  };
}

/**
 * The road point seen at pixel (u, v); null at or above the horizon (the ray never meets the road) or
 * when the ray meets the road behind the lens plane.
 */
export function groundPointAt(cam: Pinhole, u: number, v: number): GroundPoint | null {
  const a = (u - cam.cx) / cam.focalPx;
  const b = (v - cam.cy) / cam.focalPx;
  const { right: r, down: d, forward: f } = cam;
  const rayY = r[1] * a + d[1] * b + f[1];
  if (rayY >= -1e-9) return null;
  const t = cam.geometry.heightM / -rayY;
  const zM = t * (r[2] * a + d[2] * b + f[2]);
  if (!(zM > 0)) return null;
  return { xM: (cam.geometry.lateralM ?? 0) + t * (r[0] * a + d[0] * b + f[0]), zM };
}

/** Road distance covered by `pixels` image rows just below row v at column u: how much a box edge error costs. */
export function rangeErrorM(cam: Pinhole, u: number, v: number, pixels: number): number {
  const here = groundPointAt(cam, u, v);
  const nearer = groundPointAt(cam, u, v + pixels);
  const farther = groundPointAt(cam, u, v - pixels);
  if (!here) return Infinity;
  if (!farther) return Infinity;
  const spread = Math.max(farther.zM - here.zM, nearer ? here.zM - nearer.zM : 0);
  return Math.hypot(spread, (pixels * here.zM) / cam.focalPx);
}
