import { describe, expect, it } from 'vitest';
import { DEFAULT_CAMERA, PinholeCamera } from '../../../models/scene/camera.js';
import { groundPointAt, pinhole, projectToImage, rangeErrorM, type CameraGeometry } from './camera-geometry.js';

const image = { w: 1280, h: 720 };
const dashcam: CameraGeometry = { heightM: 1.4, pitchDeg: 6, hfovDeg: 78 };

describe('pinhole camera over the road', () => {
  const cam = pinhole(dashcam, image);

  it('puts the horizon above the centre by focal × tan(pitch)', () => {
    expect(cam.focalPx).toBeCloseTo(640 / Math.tan((39 * Math.PI) / 180), 9);
    expect(cam.horizonV).toBeCloseTo(360 - cam.focalPx * Math.tan((6 * Math.PI) / 180), 9);
  });

  it.each([
    ['bottom row, centre', 640, 720],
    ['image centre', 640, 360],
  ])('%s maps to a road point straight ahead', (_label, u, v) => {
    const p = groundPointAt(cam, u, v)!;
    expect(p.xM).toBeCloseTo(0, 9);
    expect(p.zM).toBeGreaterThan(0);
  });

  it('the centre-bottom row is near (a few metres) and rows higher up are farther', () => {
    const rows = [719, 650, 550, 450, 400, 350, 300];
    const distances = rows.map((v) => groundPointAt(cam, 640, v)!.zM);
    expect(distances[0]).toBeGreaterThan(2);
    expect(distances[0]).toBeLessThan(5);
    for (let i = 1; i < distances.length; i++) expect(distances[i]).toBeGreaterThan(distances[i - 1]!);
  });

  it.each([
    ['at the horizon', 0],
    ['just above it', -0.5],
    ['far above it', -200],
  ])('rejects a row %s', (_label, offset) => {
    expect(groundPointAt(cam, 640, cam.horizonV + offset)).toBeNull();
  });

  it('is unbounded but finite just below the horizon', () => {
    const p = groundPointAt(cam, 640, cam.horizonV + 0.01)!;
    expect(p.zM).toBeGreaterThan(1_000);
    expect(Number.isFinite(p.zM)).toBe(true);
  });

  it.each([
    [{ xM: 0, zM: 5 }],
    [{ xM: -1.7, zM: 12 }],
    [{ xM: 2.5, zM: 25 }],
    [{ xM: 0.3, zM: 60 }],
  ])('round-trips road point %o through the image', (point) => {
    for (const geometry of [dashcam, { heightM: 1.25, pitchDeg: 9, hfovDeg: 70, yawDeg: 1.5, lateralM: 0.3 }]) {
      const c = pinhole(geometry, image);
      const px = projectToImage(c, point)!;
      const back = groundPointAt(c, px.u, px.v)!;
      expect(back.xM).toBeCloseTo(point.xM, 6);
      expect(back.zM).toBeCloseTo(point.zM, 6);
    }
  });

  it('does not project points behind the lens', () => {
    expect(projectToImage(cam, { xM: 0, zM: -3 })).toBeNull();
  });

  it('range error grows roughly with the square of the distance', () => {
    const at = (z: number) => {
      const p = projectToImage(cam, { xM: 0, zM: z })!;
      return rangeErrorM(cam, p.u, p.v, 2);
    };
    expect(at(5)).toBeLessThan(0.1);
    expect(at(20) / at(10)).toBeGreaterThan(3);
    expect(at(20) / at(10)).toBeLessThan(5);
  });

  it.each([
    [{ heightM: 0, pitchDeg: 6, hfovDeg: 78 }],
    [{ heightM: 1.4, pitchDeg: 6, hfovDeg: 180 }],
  ])('rejects an impossible camera %o', (geometry) => {
    expect(() => pinhole(geometry, image)).toThrow(RangeError);
  });
});

describe('same conventions as the scene renderer (models/scene/camera.ts)', () => {
  const models = [
    { ...DEFAULT_CAMERA },
    { heightM: 1.55, pitchDeg: 4, yawDeg: -1.2, hfovDeg: 86, lateralM: -0.2 },
    { heightM: 1.2, pitchDeg: 9.5, yawDeg: 2, hfovDeg: 68, lateralM: 0.35 },
  ];

  it.each(models)('projects road points to the same pixels as PinholeCamera (%o)', (model) => {
    const theirs = new PinholeCamera(model, 960, 540);
    const ours = pinhole(model, { w: 960, h: 540 });
    expect(ours.horizonV).toBeCloseTo(theirs.horizonV, 9);
    for (const [x, z] of [[0, 4], [-2, 9], [1.5, 17], [3, 33]] as const) {
      const a = theirs.project(x, 0, z)!;
      const b = projectToImage(ours, { xM: x, zM: z })!;
      expect(b.u).toBeCloseTo(a.u, 6);
      expect(b.v).toBeCloseTo(a.v, 6);
    }
  });

  it.each(models)('inverts rows the way groundRow does (%o)', (model) => {
    const theirs = new PinholeCamera(model, 960, 540);
    const ours = pinhole(model, { w: 960, h: 540 });
    for (const v of [300, 400, 539]) {
      const row = theirs.groundRow(v)!;
      for (const u of [0, 480, 900]) {
        const p = groundPointAt(ours, u, v)!;
        expect(p.xM).toBeCloseTo(row.x0 + u * row.dx, 6);
        expect(p.zM).toBeCloseTo(row.z0 + u * row.dz, 6);
      }
    }
  });
});
