import type { FixSample } from './interpolate.js';

/** The fields fusion reads from the GPS module's `Fix` (agent/src/gps/fix.ts), structurally. */
export interface GpsFixFields {
  /** ISO 8601 UTC; null before the receiver has sent a date. */
  time: string | null;
  lat: number | null;
  lon: number | null;
  mode: 0 | 1 | 2 | 3;
  hdop: number | null;
  speedKmh: number | null;
  courseDeg: number | null;
}

/**
 * A GPS fix as fusion takes it, or null when it has no time or no position (fusion cannot use it).
 * `tMs` is the fix's GPS time: frames must be stamped on the same time base.
 */
export function fixSampleFromGps(fix: GpsFixFields): FixSample | null {
  if (fix.time === null || fix.lat === null || fix.lon === null) return null;
  const tMs = Date.parse(fix.time);
  if (!Number.isFinite(tMs)) return null;
  return { tMs, lat: fix.lat, lon: fix.lon, speedKmh: fix.speedKmh, courseDeg: fix.courseDeg, mode: fix.mode, hdop: fix.hdop };
}
