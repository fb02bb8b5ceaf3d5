// Two guards against reporting the same defect again: the vehicle standing still (a red light with a
// pothole in view would otherwise be re-detected for minutes), and a memory of recently reported spots.
import { distanceM, type LatLon } from './geo.js';

/**
 * Stationary detection with hysteresis: the vehicle becomes stationary once its speed has stayed below
 * `stopSpeedKmh` for `stopAfterMs`, and moves again as soon as its speed reaches `moveSpeedKmh`. The
 * gap between the two thresholds absorbs the 0–2 km/h a receiver reports while parked.
 */
export interface MotionPolicy {
  stopSpeedKmh: number;
  moveSpeedKmh: number;
  stopAfterMs: number;
}

export const DEFAULT_MOTION_POLICY: Readonly<MotionPolicy> = Object.freeze({
  stopSpeedKmh: 3,
  moveSpeedKmh: 6,
  stopAfterMs: 2_000,
});

export interface MotionState {
  stationary: boolean;
  /** Since when the speed has been below `stopSpeedKmh` (null while faster). */
  slowSinceMs: number | null;
}

export const INITIAL_MOTION: Readonly<MotionState> = Object.freeze({ stationary: false, slowSinceMs: null });

/** An unknown speed (no fix) leaves the state as it was: standing still is never inferred from silence. */
export function updateMotion(state: MotionState, tMs: number, speedKmh: number | null, policy: MotionPolicy = DEFAULT_MOTION_POLICY): MotionState {
  if (speedKmh === null || !Number.isFinite(speedKmh)) return state;
  if (speedKmh >= policy.moveSpeedKmh) return { stationary: false, slowSinceMs: null };
  if (speedKmh >= policy.stopSpeedKmh) return { stationary: state.stationary, slowSinceMs: null };
  const slowSinceMs = state.slowSinceMs ?? tMs;
  return { stationary: state.stationary || tMs - slowSinceMs >= policy.stopAfterMs, slowSinceMs };
}

/**
 * Spatial de-duplication: a defect of the same class within `radiusM` of one reported in the last
 * `windowMs` is not reported again. This catches a track that broke in two (an occlusion, a missed
 * frames burst), the same defect met again after a stop, and a loop round the block.
 */
export interface DedupePolicy {
  radiusM: number;
  windowMs: number;
  /** Bound on the memory; the oldest spots are forgotten first. */
  maxSpots: number;
}

export const DEFAULT_DEDUPE_POLICY: Readonly<DedupePolicy> = Object.freeze({
  radiusM: 6,
  windowMs: 10 * 60_000,
  maxSpots: 5_000,
});

export interface ReportedSpot extends LatLon {
  class: string;
  tMs: number;
}

/** Spots in the order they were reported. */
export type ReportedSpots = readonly ReportedSpot[];

export function isAlreadyReported(spots: ReportedSpots, candidate: ReportedSpot, policy: DedupePolicy = DEFAULT_DEDUPE_POLICY): boolean {
  return spots.some(
    (spot) =>
      spot.class === candidate.class &&
      Math.abs(candidate.tMs - spot.tMs) <= policy.windowMs &&
      distanceM(spot, candidate) <= policy.radiusM,
  );
}

export function rememberSpot(spots: ReportedSpots, spot: ReportedSpot, policy: DedupePolicy = DEFAULT_DEDUPE_POLICY): ReportedSpot[] {
  const fresh = spots.filter((s) => spot.tMs - s.tMs <= policy.windowMs);
  fresh.push(spot);
  return fresh.length > policy.maxSpots ? fresh.slice(fresh.length - policy.maxSpots) : fresh;
}
