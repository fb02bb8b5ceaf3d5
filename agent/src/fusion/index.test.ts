import { describe, expect, it } from 'vitest';
import { Fusion } from './index.js';
import type { FixSample } from './interpolate.js';

const camera = { heightM: 1.4, pitchDeg: 6, hfovDeg: 78 };
const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);
const fix = (tMs: number, mode: FixSample['mode'] = 3): FixSample => ({ tMs, lat: 52.37, lon: 4.895, speedKmh: 0, courseDeg: null, mode, hdop: 1 });
const frame = (tMs: number) => ({ tMs, clock: 'gps' as const, detections: [], frame: { w: 1280, h: 720 } });

describe('Fusion facade', () => {
  it('starts with empty stats and a GPS without fix', () => {
    expect(new Fusion({ camera }).stats()).toEqual({
      frames: 0,
      framesWithoutPosition: 0,
      framesWhileStationary: 0,
      framesOutOfOrder: 0,
      detections: 0,
      detectionsOffRoad: 0,
      detectionsCrossClass: 0,
      detectionsWhileStationary: 0,
      tracksOpen: 0,
      tracksHeld: 0,
      eventsEmitted: 0,
      suppressedTooFewHits: 0,
      suppressedStuckToVehicle: 0,
      suppressedDuplicates: 0,
      droppedNoPosition: 0,
      stationary: false,
      gps: 'no-fix',
      lastFixAgeMs: null,
      fixesKept: 0,
    });
  });

  it('counts and skips a frame older than the last one', () => {
    const fusion = new Fusion({ camera });
    fusion.onFrame(frame(T0 + 1_000));
    expect(fusion.onFrame(frame(T0 + 500))).toEqual([]);
    expect(fusion.stats()).toMatchObject({ frames: 1, framesOutOfOrder: 1 });
  });

  it('ignores fixes without a position and bounds the GPS history when no frames come', () => {
    const fusion = new Fusion({ camera, fixHistoryMs: 60_000 });
    fusion.onFix(fix(T0, 1));
    expect(fusion.stats().fixesKept).toBe(0);
    for (let k = 0; k < 36_000; k++) fusion.onFix(fix(T0 + k * 100));
    expect(fusion.stats().fixesKept).toBeLessThanOrEqual(660 + 1);
    expect(fusion.stats().fixesKept).toBeGreaterThanOrEqual(600);
  });

  it('never holds more than maxFixes', () => {
    const fusion = new Fusion({ camera, fixHistoryMs: 10 * 60_000, maxFixes: 500 });
    for (let k = 0; k < 2_000; k++) fusion.onFix(fix(T0 + k * 100));
    expect(fusion.stats().fixesKept).toBe(500);
  });

  it('detections above the horizon are not on the road: counted, not tracked', () => {
    const fusion = new Fusion({ camera });
    fusion.onFix({ ...fix(T0), speedKmh: 40, courseDeg: 90 });
    fusion.onFrame({ ...frame(T0 + 100), detections: [{ class: 'pothole', classIndex: 0, confidence: 0.9, box: [600, 100, 700, 150] }] });
    expect(fusion.stats()).toMatchObject({ detections: 1, detectionsOffRoad: 1, tracksOpen: 0 });
  });

  it('keeps the more confident of two classes boxed on one defect, and both of two classes side by side', () => {
    const fusion = new Fusion({ camera });
    fusion.onFix({ ...fix(T0), speedKmh: 40, courseDeg: 90 });
    fusion.onFrame({
      ...frame(T0 + 100),
      detections: [
        { class: 'D20', classIndex: 2, confidence: 0.7, box: [600, 500, 700, 560] },
        { class: 'D40', classIndex: 3, confidence: 0.5, box: [605, 505, 700, 560] },
        { class: 'D00', classIndex: 0, confidence: 0.6, box: [300, 500, 340, 560] },
      ],
    });
    expect(fusion.stats()).toMatchObject({ detections: 3, detectionsCrossClass: 1, tracksOpen: 2 });
  });

  it('reports a GPS whose newest fix is 1.5–5 s old as degraded and older as stale', () => {
    const fusion = new Fusion({ camera });
    fusion.onFix({ ...fix(T0), speedKmh: 40, courseDeg: 90 });
    fusion.onFrame(frame(T0 + 1_000));
    expect(fusion.stats().gps).toBe('ok');
    fusion.onFrame(frame(T0 + 3_000));
    expect(fusion.stats()).toMatchObject({ gps: 'degraded', lastFixAgeMs: 3_000 });
    fusion.onFrame(frame(T0 + 6_000));
    expect(fusion.stats()).toMatchObject({ gps: 'stale', framesWithoutPosition: 1 });
  });

  it.each([
    [{ tracker: { minHits: 0 } }, /minHits/],
    [{ motion: { stopSpeedKmh: 8, moveSpeedKmh: 5 } }, /moveSpeedKmh/],
    [{ camera: { heightM: -1, pitchDeg: 6, hfovDeg: 78 } }, /heightM/],
    [{ camera: { heightM: 1.4, pitchDeg: 95, hfovDeg: 78 } }, /pitchDeg/],
  ])('rejects an impossible configuration at construction: %o', (options, message) => {
    expect(() => new Fusion({ camera, ...options })).toThrow(message);
  });
});
