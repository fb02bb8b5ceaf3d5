// From a detection box to a place on the road, and from there to the defect's latitude/longitude.
import type { Box } from '../detect/detector.js';
import { groundPointAt, rangeErrorM, type GroundPoint, type Pinhole } from './camera-geometry.js';
import { offsetLatLon, vehicleToNorthEast, type LatLon } from './geo.js';

/**
 * Which point of the box stands for the defect:
 * - `bottom-centre`: where the box meets the road nearest the camera — the defect's near edge;
 * - `footprint-centre`: the midpoint on the road between the box's bottom and top edges. Road damage
 *   is flat, so the whole box lies on the road and this recovers the defect's centre (what a survey
 *   records) instead of its near edge, which is off by half the defect's length.
 */
export type GroundAnchor = 'bottom-centre' | 'footprint-centre';

export interface BoxOnGround {
  /** The anchor point on the road. */
  point: GroundPoint;
  /** The box's bottom-centre on the road (stable; used to follow the defect across frames). */
  near: GroundPoint;
  /** 1-sigma error of `point` along the line of sight from box-edge jitter, in metres. */
  sigmaM: number;
  /** The box touches an image edge: part of the defect is outside the frame, so the anchor is biased. */
  clipped: boolean;
}

export interface BoxProjectionOptions {
  anchor: GroundAnchor;
  /** Expected jitter of a box edge, in pixels. */
  edgeSigmaPx: number;
  /** A box edge within this many pixels of the frame edge counts as clipped. */
  clipMarginPx: number;
}

/** Null when the box's bottom edge is at or above the horizon (the detection is not on the road). */
export function projectBox(cam: Pinhole, box: Box, options: BoxProjectionOptions): BoxOnGround | null {
  const [x1, y1, x2, y2] = box;
  const u = (x1 + x2) / 2;
  const near = groundPointAt(cam, u, y2);
  if (!near) return null;
  const m = options.clipMarginPx;
  const clipped = x1 <= m || y2 >= cam.image.h - m || x2 >= cam.image.w - m;
  const nearSigma = rangeErrorM(cam, u, y2, options.edgeSigmaPx);
  if (options.anchor === 'bottom-centre') return { point: near, near, sigmaM: nearSigma, clipped };
  const far = groundPointAt(cam, u, y1);
  const farSigma = far ? rangeErrorM(cam, u, y1, options.edgeSigmaPx) : Infinity;
  if (!far || !Number.isFinite(farSigma)) return { point: near, near, sigmaM: nearSigma, clipped };
  return {
    point: { xM: (near.xM + far.xM) / 2, zM: (near.zM + far.zM) / 2 },
    near,
    sigmaM: Math.hypot(nearSigma, farSigma) / 2,
    clipped,
  };
}

export interface HeadedPosition extends LatLon {
  headingDeg: number;
}

/**
 * The latitude/longitude of a road point seen by the camera: the vehicle's position moved along its
 * heading by the distance ahead (plus the lens's offset ahead of the antenna) and across by the lateral
 * offset. At 50 km/h a pothole is first seen 15–25 m ahead; the vehicle's own position would be that far off.
 */
export function groundPointToLatLon(vehicle: HeadedPosition, point: GroundPoint, lensAheadOfAntennaM = 0): LatLon {
  return offsetLatLon(vehicle, vehicleToNorthEast(vehicle.headingDeg, point.zM + lensAheadOfAntennaM, point.xM));
}
