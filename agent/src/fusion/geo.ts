// Small-area geodesy: fusion works over tens of metres, where an equirectangular tangent plane is
// accurate to millimetres. Longitudes are always compared through a wrapped difference, so a track
// that crosses the antimeridian interpolates through ±180° instead of around the globe.

export const EARTH_RADIUS_M = 6_371_008.8;

const RAD = Math.PI / 180;

export interface LatLon {
  lat: number;
  lon: number;
}

export interface NorthEast {
  northM: number;
  eastM: number;
}

/** Longitude in [-180, 180). */
export function wrapLon(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

/** Angle in [0, 360). */
export function normalizeDeg(deg: number): number {
  const d = ((deg % 360) + 360) % 360;
  return d === 360 ? 0 : d;
}

/** Signed shortest turn from `from` to `to`, in (-180, 180]. */
export function angleDeltaDeg(from: number, to: number): number {
  const d = normalizeDeg(to - from);
  return d > 180 ? d - 360 : d;
}

/** Interpolates along the shorter arc: 359° → 1° passes through 0°, not 180°. */
export function lerpAngleDeg(a: number, b: number, fraction: number): number {
  return normalizeDeg(a + angleDeltaDeg(a, b) * fraction);
}

/** Interpolates a longitude along the shorter way round, so 179.9 → -179.9 crosses the antimeridian. */
export function lerpLon(a: number, b: number, fraction: number): number {
  return wrapLon(a + angleDeltaDeg(a, b) * fraction);
}

function metresPerDegLon(lat: number): number {
  return EARTH_RADIUS_M * RAD * Math.max(Math.cos(lat * RAD), 1e-9);
}

export function offsetLatLon(from: LatLon, offset: NorthEast): LatLon {
  return {
    lat: from.lat + offset.northM / (EARTH_RADIUS_M * RAD),
    lon: wrapLon(from.lon + offset.eastM / metresPerDegLon(from.lat)),
  };
}

/** Where `to` lies relative to `from` on the tangent plane at `from`. */
export function localOffsetM(from: LatLon, to: LatLon): NorthEast {
  return {
    northM: (to.lat - from.lat) * EARTH_RADIUS_M * RAD,
    eastM: angleDeltaDeg(from.lon, to.lon) * metresPerDegLon((from.lat + to.lat) / 2),
  };
}

export function distanceM(a: LatLon, b: LatLon): number {
  const { northM, eastM } = localOffsetM(a, b);
  return Math.hypot(northM, eastM);
}

/** Bearing from `from` to `to`, clockwise from north, in [0, 360). */
export function bearingDeg(from: LatLon, to: LatLon): number {
  const { northM, eastM } = localOffsetM(from, to);
  return normalizeDeg(Math.atan2(eastM, northM) / RAD);
}

/** A point `aheadM` along the heading and `rightM` to its right, as north/east metres. */
export function vehicleToNorthEast(headingDeg: number, aheadM: number, rightM: number): NorthEast {
  const h = headingDeg * RAD;
  const sin = Math.sin(h);
  const cos = Math.cos(h);
  return { northM: aheadM * cos - rightM * sin, eastM: aheadM * sin + rightM * cos };
}

/** The inverse of vehicleToNorthEast. */
export function northEastToVehicle(headingDeg: number, offset: NorthEast): { aheadM: number; rightM: number } {
  const h = headingDeg * RAD;
  const sin = Math.sin(h);
  const cos = Math.cos(h);
  return { aheadM: offset.northM * cos + offset.eastM * sin, rightM: -offset.northM * sin + offset.eastM * cos };
}
