import { describe, expect, it } from 'vitest';
import type { Box } from '../detect/detector.js';
import { pinhole, projectToImage } from './camera-geometry.js';
import { distanceM, offsetLatLon } from './geo.js';
import { projectBox } from './ground.js';
import type { VehiclePose } from './interpolate.js';
import { DEFAULT_SUMMARY_CONFIG, summarizeTrack, topKMean } from './summarize.js';
import type { Track, TrackHit } from './tracker.js';

const image = { w: 1280, h: 720 };
const cam = pinhole({ heightM: 1.4, pitchDeg: 6, hfovDeg: 78 }, image);
const origin = { lat: 52.37, lon: 4.895 };
/** The defect: 30 m north of the origin, 0.5 m east; the vehicle drives north along lon = origin. */
const defect = offsetLatLon(origin, { northM: 30, eastM: 0.5 });

function hitAt(travelledM: number, confidence: number, overrides: Partial<VehiclePose> = {}, clipBottom = false): TrackHit {
  const z = 30 - travelledM;
  const corners = [[-0.4, -0.3], [0.4, -0.3], [-0.4, 0.3], [0.4, 0.3]].map(([dx, dz]) => projectToImage(cam, { xM: 0.5 + dx!, zM: z + dz! })!);
  const box: Box = [Math.min(...corners.map((c) => c.u)), Math.min(...corners.map((c) => c.v)), Math.max(...corners.map((c) => c.u)), Math.max(...corners.map((c) => c.v))];
  if (clipBottom) box[3] = image.h;
  const tMs = 1_000 * travelledM;
  const pose: VehiclePose = { tMs, ...offsetLatLon(origin, { northM: travelledM, eastM: 0 }), speedKmh: 36, headingDeg: 0, accuracyM: 2.5, method: 'interpolated', fixAgeMs: 0, ...overrides };
  return { tMs, clock: 'gps', frame: image, box, confidence, ground: projectBox(cam, box, { anchor: 'footprint-centre', edgeSigmaPx: 2, clipMarginPx: 2 })!, pose };
}

function trackOf(hits: TrackHit[]): Track {
  return { id: 1, class: 'pothole', classVotes: { pothole: 1 }, hits, hitCount: hits.length, missedFrames: 0, firstOdometerM: 0, lastSeenOdometerM: 0, stuck: false };
}

const byPose = (hit: TrackHit) => hit.pose;

describe('summarizeTrack', () => {
  const approach = [hitAt(8, 0.55), hitAt(12, 0.7), hitAt(16, 0.8), hitAt(20, 0.85), hitAt(24, 0.9)];

  it('places the defect where it is (not where the vehicle was) with both position methods', () => {
    for (const position of ['weighted-hits', 'best-frame'] as const) {
      const d = summarizeTrack(trackOf(approach), byPose, { ...DEFAULT_SUMMARY_CONFIG, position })!;
      expect(distanceM(d, defect)).toBeLessThan(0.05);
    }
  });

  it.each([
    ['the nearest hit when it is strong', [hitAt(10, 0.6), hitAt(20, 0.8), hitAt(25, 0.7)], 25],
    ['not a near hit far weaker than the best', [hitAt(10, 0.8), hitAt(20, 0.9), hitAt(25, 0.3)], 20],
    ['not a hit clipped by the frame bottom', [hitAt(10, 0.6), hitAt(22, 0.8), hitAt(27.4, 0.9, {}, true)], 22],
  ])('best frame is %s', (_label, hits, travelledM) => {
    const d = summarizeTrack(trackOf(hits), byPose)!;
    expect(d.tMs).toBe(1_000 * travelledM);
    expect(d.bbox).toEqual(hits.find((h) => h.tMs === d.tMs)!.box);
  });

  it('reports hits, the top-3 mean confidence, and the vehicle at the best frame', () => {
    const d = summarizeTrack({ ...trackOf(approach), hitCount: 9 }, byPose)!;
    expect(d.hits).toBe(9);
    expect(d.confidence).toBeCloseTo((0.9 + 0.85 + 0.8) / 3, 9);
    expect(d.speedKmh).toBe(36);
    expect(d.headingDeg).toBe(0);
    expect(d.clock).toBe('gps');
    expect(d.class).toBe('pothole');
  });

  it('accuracy combines the GPS accuracy at the best frame with the projection error', () => {
    const d = summarizeTrack(trackOf(approach), byPose)!;
    expect(d.accuracyM).toBeGreaterThan(2.5);
    expect(d.accuracyM).toBeLessThan(2.6);
  });

  it.each([
    ['no pose for any hit', () => null],
    ['no heading for any hit', (hit: TrackHit) => ({ ...hit.pose!, headingDeg: null })],
  ])('cannot be positioned with %s', (_label, poseOf) => {
    expect(summarizeTrack(trackOf(approach), poseOf)).toBeNull();
  });

  it('uses clipped hits when there is nothing else', () => {
    const d = summarizeTrack(trackOf([hitAt(27.4, 0.9, {}, true)]), byPose);
    expect(d).not.toBeNull();
  });

  it('flags a position that used a degraded pose, and lets the better poses dominate', () => {
    const shifted = (hit: TrackHit): VehiclePose => (hit.tMs === 24_000 ? { ...hit.pose!, ...offsetLatLon(hit.pose!, { northM: 10, eastM: 0 }), method: 'degraded', accuracyM: 20 } : hit.pose!);
    const d = summarizeTrack(trackOf(approach), shifted)!;
    expect(d.poseMethod).toBe('degraded');
    expect(distanceM(d, defect)).toBeLessThan(1);
  });
});

describe('topKMean', () => {
  it.each([
    [[0.5], 3, 0.5],
    [[0.2, 0.9, 0.4, 0.8], 3, 0.7],
    [[0.2, 0.9, 0.4, 0.8], 1, 0.9],
    [[0.3, 0.6], 3, 0.45],
  ])('top-k mean of %o (k=%s) = %s', (values, k, expected) => {
    expect(topKMean(values, k)).toBeCloseTo(expected, 9);
  });
});
