import { describe, expect, it } from 'vitest';
import type { Box } from '../detect/detector.js';
import { groundPointAt, pinhole, projectToImage } from './camera-geometry.js';
import { offsetLatLon } from './geo.js';
import { projectBox } from './ground.js';
import type { VehiclePose } from './interpolate.js';
import {
  DEFAULT_TRACKER_CONFIG,
  flushTracks,
  gateCost,
  INITIAL_TRACKER_STATE,
  requiredHits,
  step,
  type ObservedDetection,
  type StepResult,
  type TrackerConfig,
  type TrackerFrame,
  type TrackerState,
} from './tracker.js';

const image = { w: 1280, h: 720 };
const cam = pinhole({ heightM: 1.4, pitchDeg: 6, hfovDeg: 78 }, image);
const nearestVisibleM = groundPointAt(cam, 640, 720)!.zM;
const origin = { lat: 52.37, lon: 4.895 };

/** A detection of a 0.6 × 0.8 m defect centred x m right and z m ahead of the lens. */
function seen(x: number, z: number, cls = 'pothole', confidence = 0.8): ObservedDetection | null {
  const corners = [[-0.4, -0.3], [0.4, -0.3], [-0.4, 0.3], [0.4, 0.3]].map(([dx, dz]) => projectToImage(cam, { xM: x + dx!, zM: z + dz! })!);
  const box: Box = [
    Math.max(0, Math.min(...corners.map((c) => c.u))),
    Math.max(0, Math.min(...corners.map((c) => c.v))),
    Math.min(image.w, Math.max(...corners.map((c) => c.u))),
    Math.min(image.h, Math.max(...corners.map((c) => c.v))),
  ];
  if (box[1] >= image.h) return null;
  const ground = projectBox(cam, box, { anchor: 'footprint-centre', edgeSigmaPx: 2, clipMarginPx: 2 })!;
  return { class: cls, confidence, box, ground };
}

function pose(tMs: number, travelledM: number, speedKmh: number): VehiclePose {
  return { tMs, ...offsetLatLon(origin, { northM: travelledM, eastM: 0 }), speedKmh, headingDeg: 0, accuracyM: 2.5, method: 'interpolated', fixAgeMs: 0 };
}

interface Scripted {
  /** Defects as (x, distance ahead of the lens at the start) on the road; each frame they come nearer. */
  defects?: { x: number; z0: number; cls?: string; frames?: number[]; confidence?: number }[];
  /** Per-frame extra detections. */
  extra?: Record<number, ObservedDetection[]>;
  speedKmh: number;
  fps: number;
  frames: number;
  config?: Partial<TrackerConfig>;
  /** The detector sees defects up to this far ahead. */
  visibleToM?: number;
}

/** Drives the tracker through a scripted sequence; returns every step result and the final state. */
function drive(script: Scripted): { results: StepResult[]; state: TrackerState } {
  const config = { ...DEFAULT_TRACKER_CONFIG, ...script.config };
  let state: TrackerState = INITIAL_TRACKER_STATE;
  const results: StepResult[] = [];
  const metresPerFrame = script.speedKmh / 3.6 / script.fps;
  for (let k = 0; k < script.frames; k++) {
    const tMs = (k * 1000) / script.fps;
    const travelled = k * metresPerFrame;
    const detections: ObservedDetection[] = [];
    for (const d of script.defects ?? []) {
      if (d.frames && !d.frames.includes(k)) continue;
      const z = d.z0 - travelled;
      if (z < 1 || z > (script.visibleToM ?? 25)) continue;
      const det = seen(d.x, z, d.cls, d.confidence);
      if (det) detections.push(det);
    }
    detections.push(...(script.extra?.[k] ?? []));
    const frame: TrackerFrame = { tMs, clock: 'gps', frame: image, detections, pose: pose(tMs, travelled, script.speedKmh), nearestVisibleM };
    const result = step(state, frame, config);
    results.push(result);
    state = result.state;
  }
  return { results, state };
}

const finished = (results: StepResult[]) => results.flatMap((r) => r.finished);
const discarded = (results: StepResult[]) =>
  results.reduce((sum, r) => ({ tooFewHits: sum.tooFewHits + r.discarded.tooFewHits, stuckToVehicle: sum.stuckToVehicle + r.discarded.stuckToVehicle }), { tooFewHits: 0, stuckToVehicle: 0 });

describe('tracker', () => {
  it('follows an approaching pothole to one finished track that ends when it leaves the bottom of the frame', () => {
    const { results, state } = drive({ defects: [{ x: 0.5, z0: 24 }], speedKmh: 50, fps: 5, frames: 12 });
    const done = finished(results);
    expect(done).toHaveLength(1);
    expect(done[0]!.reason).toBe('exited');
    expect(done[0]!.track.hitCount).toBeGreaterThanOrEqual(7);
    expect(state.tracks).toHaveLength(0);
    // As the vehicle drives on, the defect moves down and grows in the image.
    const boxes = done[0]!.track.hits.map((h) => h.box);
    for (let i = 1; i < boxes.length; i++) {
      expect(boxes[i]![3]).toBeGreaterThan(boxes[i - 1]![3]);
      expect(boxes[i]![2] - boxes[i]![0]).toBeGreaterThan(boxes[i - 1]![2] - boxes[i - 1]![0]);
    }
  });

  it.each([
    ['one-frame false positive', { extra: { 3: [seen(-1, 12, 'crack')!] } }, 0, 1],
    ['a detection missed for one frame', { defects: [{ x: 0, z0: 22, frames: [0, 1, 2, 4, 5, 6, 7] }] }, 1, 0],
    ['two potholes side by side, 2.5 m apart', { defects: [{ x: -1.2, z0: 20 }, { x: 1.3, z0: 20 }] }, 2, 0],
    ['two potholes one behind the other, 5 m apart', { defects: [{ x: 0, z0: 18 }, { x: 0, z0: 23 }] }, 2, 0],
    ['a pothole and a crack at the same spot', { defects: [{ x: 0, z0: 20 }, { x: 0, z0: 20, cls: 'crack' }] }, 2, 0],
  ] as [string, Partial<Scripted>, number, number][])('%s → %s finished, %s discarded', (_label, script, expectFinished, expectDiscarded) => {
    const { results, state } = drive({ speedKmh: 50, fps: 5, frames: 14, ...script });
    const flushed = flushTracks(state);
    expect(finished(results).length + flushed.finished.length).toBe(expectFinished);
    expect(discarded(results).tooFewHits + flushed.discarded.tooFewHits).toBe(expectDiscarded);
  });

  it('keeps one track when the detector names the defect differently in one frame, and the track takes the majority class', () => {
    const { results, state } = drive({
      defects: [
        { x: 0, z0: 22, cls: 'D20', frames: [0, 1, 3, 4, 5, 6, 7, 8, 9] },
        { x: 0, z0: 22, cls: 'D40', frames: [2], confidence: 0.9 },
      ],
      speedKmh: 50,
      fps: 5,
      frames: 12,
    });
    const all = [...finished(results), ...flushTracks(state).finished];
    expect(all).toHaveLength(1);
    expect(all[0]!.track.class).toBe('D20');
    expect(all[0]!.track.classVotes.D40).toBeCloseTo(0.9);
    expect(all[0]!.track.hitCount).toBeGreaterThanOrEqual(7);
  });

  it('changes a track’s class when later, nearer frames agree on another', () => {
    const { results, state } = drive({
      defects: [
        { x: 0, z0: 22, cls: 'D00', frames: [0, 1], confidence: 0.4 },
        { x: 0, z0: 22, cls: 'D40', frames: [2, 3, 4, 5, 6], confidence: 0.8 },
      ],
      speedKmh: 50,
      fps: 5,
      frames: 12,
    });
    const all = [...finished(results), ...flushTracks(state).finished];
    expect(all.map((f) => f.track.class)).toEqual(['D40']);
  });

  it('ends a track after maxMissedFrames without a match when the defect vanishes mid-frame', () => {
    const { results } = drive({ defects: [{ x: 0, z0: 22, frames: [0, 1, 2] }], speedKmh: 30, fps: 5, frames: 8 });
    const done = finished(results);
    expect(done.map((f) => f.reason)).toEqual(['missed']);
    expect(results.findIndex((r) => r.finished.length > 0)).toBe(2 + DEFAULT_TRACKER_CONFIG.maxMissedFrames);
  });

  it('ends a track by distance when frames were dropped (the defect has been passed)', () => {
    const { results } = drive({ defects: [{ x: 0, z0: 44, frames: [0, 1] }], visibleToM: 45, speedKmh: 50, fps: 1, frames: 4, config: { maxMissedFrames: 10 } });
    expect(finished(results).map((f) => f.reason)).toEqual(['gap']);
  });

  it.each([
    ['5 fps at 50 km/h: two hits needed', 5, 16, 0.9, 0, 1],
    ['1 fps at 50 km/h: one confident hit is enough', 1, 28, 0.9, 1, 0],
    ['1 fps at 50 km/h: one weak hit is not', 1, 28, 0.3, 0, 1],
  ])('single hit, %s', (_label, fps, z0, confidence, expectFinished, expectDiscarded) => {
    const { results, state } = drive({ defects: [{ x: 0, z0, frames: [1], confidence }], speedKmh: 50, fps, frames: 4 });
    const flushed = flushTracks(state);
    expect(finished(results).length + flushed.finished.length).toBe(expectFinished);
    expect(discarded(results).tooFewHits + flushed.discarded.tooFewHits).toBe(expectDiscarded);
  });

  it.each([
    ['at 10 km/h it is followed, then discarded as stuck to the car', 10, 160, 1],
    ['at 50 km/h it never matches its own motion prediction: one-hit tracks', 50, 40, 0],
  ])('a "defect" that stays put in the image while the vehicle drives (glare, a sticker): %s', (_label, speedKmh, frames, stuck) => {
    const glare = seen(0.3, 9)!;
    const extra = Object.fromEntries(Array.from({ length: frames }, (_, k) => [k, [glare]]));
    const { results, state } = drive({ extra, speedKmh, fps: 5, frames });
    const flushed = flushTracks(state);
    expect(finished(results).length + flushed.finished.length).toBe(0);
    expect(discarded(results).stuckToVehicle + flushed.discarded.stuckToVehicle).toBe(stuck);
  });

  it('keeps at most maxHitsKept hits but counts them all', () => {
    const still = seen(0, 10)!;
    const extra = Object.fromEntries(Array.from({ length: 30 }, (_, k) => [k, [still]]));
    const { state } = drive({ extra, speedKmh: 0, fps: 5, frames: 30, config: { maxHitsKept: 8 } });
    expect(state.tracks[0]!.hits).toHaveLength(8);
    expect(state.tracks[0]!.hitCount).toBe(30);
  });

  it('flush finishes open tracks that have enough hits', () => {
    const { state } = drive({ defects: [{ x: 0, z0: 20 }, { x: 2, z0: 60, frames: [] }], extra: { 4: [seen(-2, 15, 'crack')!] }, speedKmh: 50, fps: 5, frames: 5 });
    const flushed = flushTracks(state);
    expect(flushed.finished.map((f) => [f.track.class, f.reason])).toEqual([['pothole', 'flush']]);
    expect(flushed.discarded.tooFewHits).toBe(1);
    expect(flushed.state.tracks).toHaveLength(0);
  });
});

describe('requiredHits', () => {
  it.each([
    [50, 200, 2],
    [50, 1_000, 1],
    [130, 500, 1],
    [20, 1_000, 2],
    [null, 1_000, 2],
    [50, null, 2],
  ])('%s km/h, a frame every %s ms → %d', (speedKmh, intervalMs, expected) => {
    expect(requiredHits(speedKmh === null ? null : speedKmh / 3.6, intervalMs, DEFAULT_TRACKER_CONFIG)).toBe(expected);
  });
});

describe('gateCost', () => {
  it.each([
    [{ xM: 0, zM: 10 }, { xM: 0, zM: 10 }, 0],
    [{ xM: 0, zM: 10 }, { xM: 0, zM: 13.4 }, 0.971],
    [{ xM: 0, zM: 10 }, { xM: 1.2, zM: 10 }, 0.923],
    [{ xM: 0, zM: 10 }, { xM: 2, zM: 10 }, 1.538],
    [{ xM: 0, zM: 30 }, { xM: 0, zM: 36 }, 0.706],
  ])('predicted %o, observed %o → %s', (predicted, observed, expected) => {
    expect(gateCost(predicted, observed, DEFAULT_TRACKER_CONFIG)).toBeCloseTo(expected, 3);
  });
});
