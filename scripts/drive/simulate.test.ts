import { describe, expect, it } from 'vitest';
import { DEFAULT_CAMERA } from '../../models/scene/camera.js';
import { DEFAULT_LABEL_RULES } from '../../models/scene/labels.js';
import { roadPoint, simulateDrive, SpeedProfile } from './simulate.js';

const R = 6_371_008.8;
const rad = Math.PI / 180;

/** Great-circle distance and initial bearing (haversine): independent of agent/src/fusion/geo.ts. */
function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): { distanceM: number; bearingDeg: number } {
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  const y = Math.sin(dLon) * Math.cos(b.lat * rad);
  const x = Math.cos(a.lat * rad) * Math.sin(b.lat * rad) - Math.sin(a.lat * rad) * Math.cos(b.lat * rad) * Math.cos(dLon);
  return { distanceM: 2 * R * Math.asin(Math.sqrt(h)), bearingDeg: ((Math.atan2(y, x) / rad) % 360 + 360) % 360 };
}

describe('simulateDrive', () => {
  const plan = simulateDrive({ seed: 7, lengthM: 600, width: 320, height: 180 });

  it('drives the length at constant speed, frames at n/fps, fixes at k/gpsHz', () => {
    expect(plan.durationS).toBeCloseTo(600 / (50 / 3.6), 9);
    expect(plan.frames).toHaveLength(Math.floor(plan.durationS * 5 + 1e-9) + 1);
    plan.frames.forEach((f, n) => {
      expect(f.tMs).toBeCloseTo((n * 1000) / 5, 9);
      expect(f.distanceM).toBeCloseTo((50 / 3.6) * (f.tMs / 1000), 9);
      expect(f.roadOffsetM).toBe(f.distanceM + plan.mount.forwardM);
    });
    expect(plan.fixes).toHaveLength(Math.floor(plan.durationS) + 1);
    expect(plan.fixes[0]!.utcMs).toBe(Date.parse('2026-11-22T08:00:00Z'));
    expect(plan.fixes[3]!.utcMs - plan.fixes[0]!.utcMs).toBe(3000);
  });

  it('uses the agent mount defaults as the one camera, straight road, and a drive-friendly scene', () => {
    expect(plan.mount).toEqual({ heightM: 1.4, pitchDeg: 9, hfovDeg: 72, yawDeg: 0, lateralM: 0, forwardM: 0 });
    expect(plan.camera).toEqual({ ...DEFAULT_CAMERA });
    expect(plan.road.curvature).toBe(0);
    expect(plan.conditions.weather).not.toBe('haze');
    expect(plan.conditions.motionBlurPx).toBeLessThanOrEqual(2);
  });

  it('places defects of all classes on the lane, out of label range at the start, passed before the end, 15 m apart per class', () => {
    const d = plan.defects;
    expect(d.length).toBe(Math.floor((600 - 10 - 40) / 30));
    expect(new Set(d.map((x) => x.class))).toEqual(new Set(['D00', 'D10', 'D20', 'D40']));
    const farthestLabel = Math.max(...Object.values(DEFAULT_LABEL_RULES.maxDistanceM));
    for (const x of d) {
      expect(x.nearM).toBeGreaterThan(farthestLabel);
      expect(x.farM).toBeLessThan(600);
      expect(Math.abs(x.lateralM)).toBeLessThan(plan.road.laneWidthM / 2);
      expect(x.nearM).toBeLessThan(x.distanceM);
      expect(x.farM).toBeGreaterThan(x.distanceM);
    }
    for (const a of d) for (const b of d) if (a !== b && a.class === b.class) expect(Math.abs(a.distanceM - b.distanceM)).toBeGreaterThanOrEqual(15);
    // Footprints do not overlap along the road.
    const sorted = [...d].sort((a, b) => a.distanceM - b.distanceM);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k]!.nearM).toBeGreaterThan(sorted[k - 1]!.farM);
  });

  it('puts each defect at its road distance from the start along the heading (geo check)', () => {
    for (const x of plan.defects) {
      const { distanceM, bearingDeg } = haversine(plan.start, x);
      expect(distanceM).toBeCloseTo(Math.hypot(x.distanceM, x.lateralM), 1);
      // The road keeps its course (a rhumb line, as GPS course over ground reports it); the great-circle
      // bearing from the start differs by the meridians' convergence, 0.004° over 600 m here (4 cm).
      expect(Math.abs(bearingDeg - (plan.headingDeg + Math.atan2(x.lateralM, x.distanceM) / rad))).toBeLessThan(0.01);
    }
    const end = haversine(plan.start, roadPoint(plan, 600));
    expect(end.distanceM).toBeCloseTo(600, 1);
    expect(Math.abs(end.bearingDeg - 60)).toBeLessThan(0.01);
  });

  it('gives the renderer each defect relative to the lens: zM = distance − antenna distance − forwardM', () => {
    const forward = simulateDrive({ seed: 7, lengthM: 300, width: 320, height: 180, mount: { forwardM: 1.5 } });
    expect(forward.mount.forwardM).toBe(1.5);
    // The same seed places the same defects, shifted by nothing: distances are from the antenna's start.
    for (const f of forward.frames) {
      expect(f.roadOffsetM).toBeCloseTo(f.distanceM + 1.5, 12);
      for (const dmg of f.damage) {
        const defect = forward.defects.find((x) => x.id === dmg.id)!;
        expect(dmg.zM).toBeCloseTo(defect.distanceM - f.distanceM - 1.5, 9);
        expect(dmg).toMatchObject({ cls: defect.class, xM: defect.lateralM, lengthM: defect.lengthM, widthM: defect.widthM, angleDeg: defect.angleDeg, seed: defect.shapeSeed });
      }
    }
    // Drawn from 1 m behind the lens to 200 m ahead, so each defect is approached from far away.
    const first = forward.defects[0]!;
    const seenAt = forward.frames.filter((f) => f.damage.some((x) => x.id === first.id)).map((f) => first.distanceM - f.roadOffsetM);
    expect(Math.max(...seenAt)).toBeGreaterThan(40);
  });

  it('is deterministic in the seed', () => {
    expect(simulateDrive({ seed: 7, lengthM: 600, width: 320, height: 180 })).toEqual(plan);
    const other = simulateDrive({ seed: 8, lengthM: 600, width: 320, height: 180 });
    expect(other.defects.map((d) => d.distanceM)).not.toEqual(plan.defects.map((d) => d.distanceM));
  });

  it('stops: brakes to 0, stands for the given seconds with a defect 8 m ahead of the lens, pulls away', () => {
    const stop = simulateDrive({ seed: 7, lengthM: 400, fps: 5, width: 320, height: 180, stop: { durationS: 20 } });
    const s = stop.stop!;
    expect(s.moveS - s.standS).toBeCloseTo(20, 9);
    const v = 50 / 3.6;
    expect(s.standS - s.brakeS).toBeCloseTo(v / 2, 9);
    const standing = stop.frames.filter((f) => f.tMs / 1000 >= s.standS && f.tMs / 1000 <= s.moveS);
    expect(standing.length).toBeGreaterThanOrEqual(100);
    for (const f of standing) {
      expect(f.speedMps).toBe(0);
      expect(f.distanceM).toBeCloseTo(s.atM, 9);
    }
    const ahead = standing[0]!.damage.map((d) => d.zM);
    expect(ahead.some((z) => Math.abs(z - 8) < 0.01)).toBe(true);
    // 20 s longer plus the time lost braking and accelerating (v/a each, at half speed on average).
    expect(stop.durationS).toBeCloseTo(400 / v + 20 + v / 2, 6);
    expect(stop.fixes.filter((f) => f.speedMps === 0).length).toBeGreaterThanOrEqual(20);
    // Distance is continuous and never decreasing.
    for (let k = 1; k < stop.frames.length; k++) expect(stop.frames[k]!.distanceM).toBeGreaterThanOrEqual(stop.frames[k - 1]!.distanceM);
  });

  it('adds seeded GPS noise of the given size to the reported positions only', () => {
    const noisy = simulateDrive({ seed: 7, lengthM: 2000, width: 320, height: 180, gpsNoiseM: 3, defects: 0 });
    const e = noisy.fixes.map((f) => f.errorNorthM);
    const sd = Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length);
    expect(sd).toBeGreaterThan(2.2);
    expect(sd).toBeLessThan(3.8);
    const f = noisy.fixes[10]!;
    const truth = roadPoint(noisy, noisy.frames[50]!.distanceM);
    expect(haversine(truth, f).distanceM).toBeCloseTo(Math.hypot(f.errorNorthM, f.errorEastM), 1);
    expect(simulateDrive({ seed: 7, lengthM: 2000, width: 320, height: 180, gpsNoiseM: 3, defects: 0 }).fixes).toEqual(noisy.fixes);
  });

  it('refuses what it cannot do, saying why', () => {
    expect(() => simulateDrive({ lengthM: 100, defects: 30 })).toThrow(/cannot place 30 defects/);
    expect(() => simulateDrive({ lengthM: 300, stop: { atM: 20, durationS: 5 } })).toThrow(/too near the start/);
    expect(() => simulateDrive({ gpsHz: 3 })).toThrow(/gpsHz/);
    expect(() => simulateDrive({ startTime: 'yesterday' })).toThrow(/startTime/);
  });
});

describe('SpeedProfile', () => {
  it('inverts distance and time through every phase', () => {
    const p = new SpeedProfile(10, 2, { atM: 100, durationS: 5 });
    // brake at 75 m (t 7.5 s), stand at 100 m from 12.5 s to 17.5 s, cruise again from 22.5 s at 125 m
    expect(p.stopTimes()).toEqual({ brakeS: 7.5, standS: 12.5, moveS: 17.5 });
    expect(p.at(15)).toEqual({ distanceM: 100, speedMps: 0 });
    expect(p.at(22.5).distanceM).toBeCloseTo(125, 9);
    for (const d of [0, 50, 75, 90, 99.9, 100, 100.1, 110, 125, 200]) expect(p.at(p.timeAt(d)).distanceM).toBeCloseTo(d, 6);
    expect(p.timeAt(100)).toBeCloseTo(12.5, 9);
    expect(p.timeAt(100.0001)).toBeGreaterThan(17.5);
  });
});
