import { describe, expect, it } from 'vitest';
import { DEFAULT_CAMERA, PinholeCamera } from './camera.js';
import { GroundRaster } from './ground.js';

describe('PinholeCamera', () => {
  const camera = new PinholeCamera({ ...DEFAULT_CAMERA, yawDeg: 2, lateralM: 0.3 }, 640, 360);

  it('projects the ground point it finds under a pixel back to that pixel', () => {
    for (const [u, v] of [
      [100.5, 300.5],
      [320, 200],
      [600.25, 350.75],
    ] as const) {
      const row = camera.groundRow(v)!;
      const p = camera.project(row.x0 + u * row.dx, 0, row.z0 + u * row.dz)!;
      expect(p.u).toBeCloseTo(u, 6);
      expect(p.v).toBeCloseTo(v, 6);
    }
  });

  it('has no ground above the horizon and puts far road points just below it', () => {
    expect(camera.groundRow(camera.horizonV - 1)).toBeNull();
    const far = camera.project(0, 0, 10_000)!;
    expect(far.v).toBeGreaterThan(camera.horizonV);
    expect(far.v - camera.horizonV).toBeLessThan(1);
  });

  it('derives the focal length from the horizontal field of view', () => {
    const level = new PinholeCamera({ ...DEFAULT_CAMERA, hfovDeg: 90, pitchDeg: 0 }, 640, 360);
    expect(level.focalPx).toBeCloseTo(320, 9);
    // A point 45° to the right at lens height lands on the right image edge, on the horizon.
    const edge = level.project(10, DEFAULT_CAMERA.heightM, 10)!;
    expect(edge.u).toBeCloseTo(640, 9);
    expect(edge.v).toBeCloseTo(level.horizonV, 9);
  });

  it('returns null for points behind the camera', () => {
    expect(camera.project(0, 0, -5)).toBeNull();
  });
});

describe('GroundRaster', () => {
  it('maps pixel centres to road coordinates that follow the lane curve', () => {
    const camera = new PinholeCamera({ ...DEFAULT_CAMERA }, 320, 180);
    const straight = new GroundRaster(camera, 0);
    const curved = new GroundRaster(camera, 0.004);
    const a = straight.roadAt(160, 150, { x: 0, z: 0 });
    const b = curved.roadAt(160, 150, { x: 0, z: 0 });
    expect(b.z).toBeCloseTo(a.z, 9);
    expect(a.x - b.x).toBeCloseTo(0.002 * a.z * a.z, 9);
    const p = curved.project(b.x, b.z)!;
    expect(p.u).toBeCloseTo(160.5, 6);
    expect(p.v).toBeCloseTo(150.5, 6);
  });

  it('has footprints that grow with distance', () => {
    const raster = new GroundRaster(new PinholeCamera({ ...DEFAULT_CAMERA }, 320, 180), 0);
    expect(raster.footLat[raster.firstRow + 2]!).toBeGreaterThan(raster.footLat[179]!);
    expect(raster.footLong[raster.firstRow + 2]!).toBeGreaterThan(raster.footLong[179]!);
  });
});
