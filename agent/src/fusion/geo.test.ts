import { describe, expect, it } from 'vitest';
import {
  angleDeltaDeg,
  bearingDeg,
  distanceM,
  lerpAngleDeg,
  lerpLon,
  localOffsetM,
  normalizeDeg,
  northEastToVehicle,
  offsetLatLon,
  vehicleToNorthEast,
  wrapLon,
} from './geo.js';

describe('angles and longitudes', () => {
  it.each([
    [0, 0],
    [360, 0],
    [-1, 359],
    [725, 5],
    [359.9999, 359.9999],
  ])('normalizeDeg(%d) = %d', (input, expected) => {
    expect(normalizeDeg(input)).toBeCloseTo(expected, 9);
  });

  it.each([
    [180, -180],
    [-180, -180],
    [190, -170],
    [-190, 170],
    [4.9, 4.9],
  ])('wrapLon(%d) = %d', (input, expected) => {
    expect(wrapLon(input)).toBeCloseTo(expected, 9);
  });

  it.each([
    [359, 1, 2],
    [1, 359, -2],
    [90, 270, 180],
    [10, 20, 10],
  ])('angleDeltaDeg(%d → %d) = %d', (from, to, expected) => {
    expect(angleDeltaDeg(from, to)).toBeCloseTo(expected, 9);
  });

  it.each([
    [359, 1, 0.5, 0],
    [359, 1, 0.25, 359.5],
    [350, 20, 0.5, 5],
    [10, 20, 0.5, 15],
  ])('lerpAngleDeg(%d, %d, %d) takes the short way: %d', (a, b, f, expected) => {
    expect(lerpAngleDeg(a, b, f)).toBeCloseTo(expected, 9);
  });

  it.each([
    [179.9, -179.9, 0.5, -180],
    [179.9, -179.9, 0.25, 179.95],
    [-179.9, 179.9, 0.75, 179.95],
    [4, 6, 0.5, 5],
  ])('lerpLon(%d, %d, %d) crosses the antimeridian: %d', (a, b, f, expected) => {
    expect(wrapLon(lerpLon(a, b, f) - expected)).toBeCloseTo(0, 9);
  });
});

describe('tangent-plane offsets', () => {
  const origin = { lat: 52.37, lon: 4.895 };

  it.each([
    [0, 100, 0],
    [90, 0, 100],
    [180, -100, 0],
    [45, 70.7107, 70.7107],
  ])('vehicleToNorthEast(heading %d, 100 m ahead) = N %d, E %d', (heading, north, east) => {
    const ne = vehicleToNorthEast(heading, 100, 0);
    expect(ne.northM).toBeCloseTo(north, 3);
    expect(ne.eastM).toBeCloseTo(east, 3);
  });

  it('right of a north-bound vehicle is east', () => {
    const ne = vehicleToNorthEast(0, 0, 3);
    expect(ne.eastM).toBeCloseTo(3, 9);
    expect(ne.northM).toBeCloseTo(0, 9);
  });

  it.each([[0], [37], [181], [359]])('vehicle ↔ north/east round trip at heading %d', (heading) => {
    const back = northEastToVehicle(heading, vehicleToNorthEast(heading, 17.5, -2.25));
    expect(back.aheadM).toBeCloseTo(17.5, 9);
    expect(back.rightM).toBeCloseTo(-2.25, 9);
  });

  it.each([
    [{ northM: 20, eastM: 0 }, 0],
    [{ northM: 0, eastM: 20 }, 90],
    [{ northM: -20, eastM: -20 }, 225],
  ])('offset %o is %d m away at bearing %d', (offset, bearing) => {
    const to = offsetLatLon(origin, offset);
    expect(distanceM(origin, to)).toBeCloseTo(Math.hypot(offset.northM, offset.eastM), 3);
    expect(bearingDeg(origin, to)).toBeCloseTo(bearing, 3);
  });

  it('offsets across the antimeridian', () => {
    const start = { lat: -16.5, lon: 179.9999 };
    const to = offsetLatLon(start, { northM: 0, eastM: 50 });
    expect(to.lon).toBeLessThan(-179.999);
    expect(localOffsetM(start, to).eastM).toBeCloseTo(50, 3);
    expect(distanceM(start, to)).toBeCloseTo(50, 3);
  });
});
