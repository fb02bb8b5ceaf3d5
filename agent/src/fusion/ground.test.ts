import { describe, expect, it } from 'vitest';
import type { Box } from '../detect/detector.js';
import { pinhole, projectToImage, type GroundPoint } from './camera-geometry.js';
import { distanceM, offsetLatLon, vehicleToNorthEast } from './geo.js';
import { groundPointToLatLon, projectBox, type BoxProjectionOptions } from './ground.js';

const cam = pinhole({ heightM: 1.4, pitchDeg: 6, hfovDeg: 78 }, { w: 1280, h: 720 });
const bottom: BoxProjectionOptions = { anchor: 'bottom-centre', edgeSigmaPx: 2, clipMarginPx: 2 };
const centre: BoxProjectionOptions = { ...bottom, anchor: 'footprint-centre' };

/** The tight image box of a road rectangle centred at (x, z). */
function boxOf(x: number, z: number, lengthM: number, widthM: number): Box {
  const pts = [
    [x - widthM / 2, z - lengthM / 2],
    [x + widthM / 2, z - lengthM / 2],
    [x - widthM / 2, z + lengthM / 2],
    [x + widthM / 2, z + lengthM / 2],
  ].map(([xM, zM]) => projectToImage(cam, { xM: xM!, zM: zM! })!);
  return [Math.min(...pts.map((p) => p.u)), Math.min(...pts.map((p) => p.v)), Math.max(...pts.map((p) => p.u)), Math.max(...pts.map((p) => p.v))];
}

describe('projectBox', () => {
  it.each([
    [0, 6, 0.6, 0.8],
    [-1.5, 12, 1, 1],
    [1.2, 20, 0.6, 0.8],
    [0.5, 30, 2, 0.3],
  ])('bottom-centre finds the near edge of a %d/%d m defect', (x, z, lengthM, widthM) => {
    const placed = projectBox(cam, boxOf(x, z, lengthM, widthM), bottom)!;
    expect(placed.point.zM).toBeCloseTo(z - lengthM / 2, 6);
    expect(placed.point.xM).toBeCloseTo(x, 1);
    expect(placed.clipped).toBe(false);
  });

  it.each([
    [0, 6, 0.6, 0.8],
    [-1.5, 12, 1, 1],
    [1.2, 20, 0.6, 0.8],
    [0.5, 15, 3, 0.3],
  ])('footprint-centre finds the centre of a %d/%d m defect', (x, z, lengthM, widthM) => {
    const placed = projectBox(cam, boxOf(x, z, lengthM, widthM), centre)!;
    expect(placed.point.zM).toBeCloseTo(z, 6);
    expect(placed.point.xM).toBeCloseTo(x, 1);
    expect(placed.near.zM).toBeCloseTo(z - lengthM / 2, 6);
  });

  it('uncertainty grows with distance', () => {
    const near = projectBox(cam, boxOf(0, 6, 0.6, 0.8), centre)!;
    const far = projectBox(cam, boxOf(0, 25, 0.6, 0.8), centre)!;
    expect(far.sigmaM).toBeGreaterThan(10 * near.sigmaM);
  });

  it.each([
    ['touching the bottom', [600, 650, 700, 719] as Box],
    ['touching the left edge', [0, 500, 80, 540] as Box],
    ['touching the right edge', [1200, 500, 1280, 540] as Box],
  ])('marks a box %s as clipped', (_label, box) => {
    expect(projectBox(cam, box, centre)!.clipped).toBe(true);
  });

  it.each([
    ['above the horizon', [600, 100, 700, 200] as Box],
    ['with its bottom on the horizon', [600, 200, cam.horizonV, cam.horizonV] as Box],
  ])('rejects a box %s', (_label, box) => {
    expect(projectBox(cam, box, bottom)).toBeNull();
  });

  it('falls back to the near edge when the top is above the horizon', () => {
    const placed = projectBox(cam, [600, cam.horizonV - 20, 700, 400], centre)!;
    expect(placed.point).toEqual(placed.near);
  });
});

describe('groundPointToLatLon', () => {
  const vehicle = { lat: 52.37, lon: 4.895 };

  it.each([
    [0, { xM: 0, zM: 18 }, 0],
    [90, { xM: 0, zM: 18 }, 0],
    [213, { xM: -1.5, zM: 18 }, 0],
    [359, { xM: 2, zM: 7 }, 1.2],
  ] as [number, GroundPoint, number][])('heading %d: places %o at the right distance and side', (headingDeg, point, lensAhead) => {
    const at = groundPointToLatLon({ ...vehicle, headingDeg }, point, lensAhead);
    const expected = offsetLatLon(vehicle, vehicleToNorthEast(headingDeg, point.zM + lensAhead, point.xM));
    expect(distanceM(at, expected)).toBeLessThan(1e-6);
    expect(distanceM(vehicle, at)).toBeCloseTo(Math.hypot(point.zM + lensAhead, point.xM), 3);
  });
});
