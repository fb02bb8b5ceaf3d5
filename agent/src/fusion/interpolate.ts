// The vehicle's position, speed and heading at a frame's time, from the recent GPS track.
import { bearingDeg, distanceM, lerpAngleDeg, lerpLon, offsetLatLon, vehicleToNorthEast } from './geo.js';

/** One GPS fix on the same time base as the frames (epoch ms); the GPS adapter maps its `Fix` to this. */
export interface FixSample {
  tMs: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  /** Course over ground, clockwise from true north. */
  courseDeg: number | null;
  /** NMEA fix mode: 0/1 no fix, 2 = 2D, 3 = 3D. */
  mode: 0 | 1 | 2 | 3;
  hdop: number | null;
}

/**
 * Stale/missing fix policy (docs/FUSION.md):
 * - a time between two fixes at most `maxInterpolationGapMs` apart is interpolated linearly;
 * - otherwise the nearest fix is dead-reckoned (speed × course) to the time: up to `freshAgeMs` with
 *   accuracy = fix accuracy + `deadReckoningError` × distance dead-reckoned; from `freshAgeMs` to
 *   `maxAgeMs` the pose is `degraded` and the error fraction past `freshAgeMs` is `degradedError`;
 * - past `maxAgeMs`, or with no fix of mode ≥ 2 at all, there is no pose: never guessed.
 */
export interface PositionPolicy {
  maxInterpolationGapMs: number;
  freshAgeMs: number;
  maxAgeMs: number;
  /** Metres of horizontal error per unit of HDOP (user-equivalent range error). */
  uereM: number;
  /** Accuracy of a fix that reports no HDOP. */
  noHdopAccuracyM: number;
  deadReckoningError: number;
  degradedError: number;
  /** Below this speed a receiver's course is noise; the heading comes from the track instead. */
  minCourseSpeedKmh: number;
  /** Speed assumed for accuracy growth when the speed is unknown (the position is held at the fix). */
  unknownSpeedMps: number;
}

export const DEFAULT_POSITION_POLICY: Readonly<PositionPolicy> = Object.freeze({
  maxInterpolationGapMs: 2_500,
  freshAgeMs: 1_500,
  maxAgeMs: 5_000,
  uereM: 2.5,
  noHdopAccuracyM: 5,
  deadReckoningError: 0.15,
  degradedError: 0.4,
  minCourseSpeedKmh: 3,
  unknownSpeedMps: 15,
});

export type PoseMethod = 'interpolated' | 'extrapolated' | 'degraded';

export interface VehiclePose {
  tMs: number;
  lat: number;
  lon: number;
  speedKmh: number | null;
  headingDeg: number | null;
  accuracyM: number;
  method: PoseMethod;
  /** Time to the nearest fix used. */
  fixAgeMs: number;
}

export type PoseResult =
  | { ok: true; pose: VehiclePose }
  | { ok: false; reason: 'no-fix' | 'stale'; fixAgeMs: number | null };

export function isUsableFix(fix: FixSample): boolean {
  return fix.mode >= 2 && Number.isFinite(fix.tMs) && Math.abs(fix.lat) <= 90 && Math.abs(fix.lon) <= 180;
}

/** Adds a fix to a time-ordered track (a fix at the same time replaces it); unusable fixes are ignored. */
export function addFix(fixes: readonly FixSample[], fix: FixSample): FixSample[] {
  if (!isUsableFix(fix)) return fixes as FixSample[];
  const i = firstIndexAtOrAfter(fixes, fix.tMs);
  const replace = fixes[i]?.tMs === fix.tMs ? 1 : 0;
  return [...fixes.slice(0, i), fix, ...fixes.slice(i + replace)];
}

/** Drops fixes before `keepFromMs`, keeping one so a time just after the cut can still be bracketed. */
export function pruneFixes(fixes: readonly FixSample[], keepFromMs: number): FixSample[] {
  const i = firstIndexAtOrAfter(fixes, keepFromMs);
  return fixes.slice(Math.max(0, i - 1));
}

function firstIndexAtOrAfter(fixes: readonly FixSample[], tMs: number): number {
  let lo = 0;
  let hi = fixes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fixes[mid]!.tMs < tMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function poseAt(fixes: readonly FixSample[], tMs: number, policy: PositionPolicy = DEFAULT_POSITION_POLICY): PoseResult {
  if (fixes.length === 0) return { ok: false, reason: 'no-fix', fixAgeMs: null };
  const i = firstIndexAtOrAfter(fixes, tMs);
  const after = fixes[i];
  const before = after?.tMs === tMs ? after : fixes[i - 1];
  if (before && after && after.tMs - before.tMs <= policy.maxInterpolationGapMs) {
    return { ok: true, pose: interpolate(fixes, i, before, after, tMs, policy) };
  }
  const nearestIndex = !after || (before && tMs - before.tMs <= after.tMs - tMs) ? i - 1 : i;
  const nearest = fixes[nearestIndex]!;
  const ageMs = Math.abs(tMs - nearest.tMs);
  if (ageMs > policy.maxAgeMs) return { ok: false, reason: 'stale', fixAgeMs: ageMs };
  return { ok: true, pose: deadReckon(fixes, nearestIndex, tMs, policy) };
}

function interpolate(fixes: readonly FixSample[], i: number, a: FixSample, b: FixSample, tMs: number, policy: PositionPolicy): VehiclePose {
  const span = b.tMs - a.tMs;
  const f = span > 0 ? (tMs - a.tMs) / span : 0;
  const headA = courseOf(a, policy);
  const headB = courseOf(b, policy);
  let headingDeg: number | null;
  if (headA !== null && headB !== null) headingDeg = lerpAngleDeg(headA, headB, f);
  else headingDeg = headA ?? headB ?? (distanceM(a, b) >= 1 ? bearingDeg(a, b) : lastKnownHeading(fixes, i, policy));
  let speedKmh: number | null;
  if (a.speedKmh !== null && b.speedKmh !== null) speedKmh = a.speedKmh + (b.speedKmh - a.speedKmh) * f;
  else speedKmh = a.speedKmh ?? b.speedKmh ?? (span > 0 ? (distanceM(a, b) / (span / 1000)) * 3.6 : null);
  return {
    tMs,
    lat: a.lat + (b.lat - a.lat) * f,
    lon: lerpLon(a.lon, b.lon, f),
    speedKmh,
    headingDeg,
    accuracyM: Math.max(fixAccuracyM(a, policy), fixAccuracyM(b, policy)),
    method: 'interpolated',
    fixAgeMs: Math.min(tMs - a.tMs, b.tMs - tMs),
  };
}

function deadReckon(fixes: readonly FixSample[], index: number, tMs: number, policy: PositionPolicy): VehiclePose {
  const fix = fixes[index]!;
  const dtS = (tMs - fix.tMs) / 1000;
  const ageMs = Math.abs(tMs - fix.tMs);
  const previous = fixes[index - 1];
  const derivedSpeed = previous && fix.tMs > previous.tMs ? (distanceM(previous, fix) / ((fix.tMs - previous.tMs) / 1000)) * 3.6 : null;
  const speedKmh = fix.speedKmh ?? derivedSpeed;
  const headingDeg = courseOf(fix, policy) ?? lastKnownHeading(fixes, index + 1, policy);
  const speedMps = speedKmh === null ? null : speedKmh / 3.6;
  const moved = speedMps !== null && headingDeg !== null ? speedMps * dtS : 0;
  const position = moved === 0 ? fix : offsetLatLon(fix, vehicleToNorthEast(headingDeg!, moved, 0));
  const errorSpeed = speedMps !== null && headingDeg !== null ? speedMps : Math.max(speedMps ?? 0, policy.unknownSpeedMps);
  const freshS = Math.min(ageMs, policy.freshAgeMs) / 1000;
  const staleS = Math.max(0, ageMs - policy.freshAgeMs) / 1000;
  const growth = errorSpeed * (freshS * policy.deadReckoningError + staleS * policy.degradedError);
  return {
    tMs,
    lat: position.lat,
    lon: position.lon,
    speedKmh,
    headingDeg,
    accuracyM: fixAccuracyM(fix, policy) + growth,
    method: ageMs <= policy.freshAgeMs ? 'extrapolated' : 'degraded',
    fixAgeMs: ageMs,
  };
}

function courseOf(fix: FixSample, policy: PositionPolicy): number | null {
  if (fix.courseDeg === null || !Number.isFinite(fix.courseDeg)) return null;
  if (fix.speedKmh !== null && fix.speedKmh < policy.minCourseSpeedKmh) return null;
  return ((fix.courseDeg % 360) + 360) % 360;
}

/** The newest trustworthy heading before index `end`: a course while moving, or the bearing of a ≥ 1 m step. */
function lastKnownHeading(fixes: readonly FixSample[], end: number, policy: PositionPolicy): number | null {
  for (let k = Math.min(end, fixes.length) - 1; k >= 0; k--) {
    const fix = fixes[k]!;
    const course = courseOf(fix, policy);
    if (course !== null) return course;
    const previous = fixes[k - 1];
    if (previous && distanceM(previous, fix) >= 1) return bearingDeg(previous, fix);
  }
  return null;
}

export function fixAccuracyM(fix: FixSample, policy: PositionPolicy): number {
  return fix.hdop !== null && fix.hdop > 0 ? fix.hdop * policy.uereM : policy.noHdopAccuracyM;
}
