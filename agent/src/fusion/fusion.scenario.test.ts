// End-to-end fusion over synthetic drives: the vehicle, its GPS and its camera simulated with the same
// camera geometry the agent uses to undo the projection.
import { EventBodySchema } from '@roadwatch/shared';
import { describe, expect, it } from 'vitest';
import { simulateDrive, pointOnRoute, timeAtDistance, type DriveOptions, type SimDefect } from './testing/drive.js';
import { eventsFor, runDrive } from './testing/run-drive.js';
import type { CameraGeometry } from './camera-geometry.js';

const camera: CameraGeometry = { heightM: 1.4, pitchDeg: 6, hfovDeg: 78 };
const KMH50 = 50 / 3.6;

function baseDrive(overrides: Partial<DriveOptions> = {}): DriveOptions {
  return {
    camera,
    image: { w: 1280, h: 720 },
    start: { lat: 52.37, lon: 4.895 },
    startHeadingDeg: 33,
    speedMps: () => KMH50,
    durationS: 25,
    startMs: Date.UTC(2026, 10, 22, 8, 0, 0),
    fixHz: 1,
    fixLatencyMs: 300,
    gpsNoiseM: 0,
    fps: 5,
    framePhaseMs: 70,
    clock: 'gps',
    defects: [],
    falsePositives: [],
    detectFromM: 2,
    detectToM: 25,
    boxJitterPx: 1.5,
    missProbability: 0.1,
    seed: 7,
    ...overrides,
  };
}

function defectAt(options: DriveOptions, id: string, distanceM: number, rightM: number, cls = 'pothole'): SimDefect {
  return { id, class: cls, ...pointOnRoute(options, distanceM, rightM), lengthM: 0.6, widthM: 0.8 };
}

describe('fusion over a straight drive at 50 km/h, 1 Hz GPS, 5 fps', () => {
  const options = baseDrive();
  const pothole = defectAt(options, 'pothole', 150, 0.8);
  const drive = simulateDrive({
    ...options,
    defects: [pothole],
    // A one-frame false positive on the road 12 m ahead.
    falsePositives: [{ tMs: options.startMs + 4_070, class: 'crack', box: [700, 420, 760, 432], confidence: 0.7 }],
  });
  const run = runDrive(drive, { camera, model: 'road-damage-tiny@1' });

  it('sees the pothole over several frames as it approaches', () => {
    expect(drive.detectedAt.get('pothole')!.length).toBeGreaterThanOrEqual(6);
  });

  it('emits exactly one event for the pothole, within 2 m, and none for the false positive', () => {
    expect(run.events).toHaveLength(1);
    const [match] = eventsFor(run, pothole);
    expect(match).toBeDefined();
    expect(match!.errorM).toBeLessThan(2);
    expect(run.stats.suppressedTooFewHits).toBe(1);
  });

  it('the event is a valid wire body with the best frame, hits, heading, speed and clock', () => {
    const { event } = run.events[0]!;
    expect(EventBodySchema.safeParse(event).success).toBe(true);
    expect(event.hits).toBeGreaterThanOrEqual(5);
    expect(event.headingDeg).toBeCloseTo(33, 0);
    expect(event.speedKmh).toBeCloseTo(50, 0);
    expect(event.clock).toBe('gps');
    expect(event.model).toBe('road-damage-tiny@1');
    expect(event.frame).toEqual({ w: 1280, h: 720 });
    // The best frame is near the bottom of the image, where the location is most accurate.
    expect(event.bbox![3]).toBeGreaterThan(500);
    const seenAt = drive.detectedAt.get('pothole')!;
    expect(seenAt).toContain(Date.parse(event.ts));
  });

  it('reports no GPS fault and nothing held at the end', () => {
    expect(run.stats).toMatchObject({ gps: 'ok', tracksOpen: 0, tracksHeld: 0, droppedNoPosition: 0, eventsEmitted: 1 });
  });
});

describe('a stop at a red light with a defect in view', () => {
  // 50 km/h for 10 s, brake at 2.5 m/s² to a stop, wait 40 s, accelerate at 2 m/s² back to 50 km/h.
  const brakeAt = 10;
  const brakeS = KMH50 / 2.5;
  const waitS = 40;
  const goAt = brakeAt + brakeS + waitS;
  const speedMps = (t: number) =>
    t < brakeAt ? KMH50 : t < brakeAt + brakeS ? KMH50 - 2.5 * (t - brakeAt) : t < goAt ? 0 : Math.min(KMH50, 2 * (t - goAt));
  const stopDistance = KMH50 * brakeAt + (KMH50 * brakeS) / 2;

  it.each([
    ['6 m ahead: followed across the stop as one track', 6, 0],
    ['at the bottom edge of the frame (2.6 m): reported before the stop, its re-detection after it de-duplicated', 2.6, 1],
  ])('the defect %s — one event per defect, nothing seen while standing reported', (_label, aheadM, duplicates) => {
    const options = baseDrive({ speedMps, durationS: goAt + 12 });
    const passed = defectAt(options, 'passed', 100, -0.6);
    const waiting = defectAt(options, 'waiting', stopDistance + aheadM, 0.4);
    const drive = simulateDrive({ ...options, defects: [passed, waiting] });
    const run = runDrive(drive, { camera });
    const stopStart = options.startMs + (brakeAt + brakeS) * 1000;
    const stopEnd = options.startMs + goAt * 1000;

    expect(drive.detectedAt.get('waiting')!.filter((t) => t > stopStart && t < stopEnd).length).toBeGreaterThan(100);
    expect(run.events).toHaveLength(2);
    expect(eventsFor(run, passed)).toHaveLength(1);
    expect(eventsFor(run, waiting)).toHaveLength(1);
    expect(eventsFor(run, waiting)[0]!.errorM).toBeLessThan(2);
    // No event comes from frames taken once the vehicle counted as stationary (2 s below 3 km/h).
    const frozenFrom = stopStart + 2_000;
    for (const { event } of run.events) expect(Date.parse(event.ts) < frozenFrom || Date.parse(event.ts) > stopEnd).toBe(true);
    expect(run.stats.suppressedDuplicates >= duplicates).toBe(true);
    expect(run.stats.framesWhileStationary).toBeGreaterThan(150);
    expect(run.stats.detectionsWhileStationary).toBeGreaterThan(100);
  });

  it('a defect reported just before the stop is not re-emitted when the vehicle stops on top of it', () => {
    const options = baseDrive({ speedMps, durationS: goAt + 12 });
    // Passed 2 s before the stop: reported; then the car stops with its nose over it.
    const under = defectAt(options, 'under', stopDistance - 0.5, 0);
    const drive = simulateDrive({ ...options, defects: [under] });
    const run = runDrive(drive, { camera });
    expect(eventsFor(run, under)).toHaveLength(1);
    expect(run.events).toHaveLength(1);
  });
});

describe('anywhere on the globe, any heading', () => {
  it.each([
    ['across the antimeridian, heading east', { lat: -16.8, lon: 179.9985 }, 90],
    ['heading due north (course wraps 359 → 1 with noise)', { lat: 60.17, lon: 24.94 }, 0.2],
    ['southern hemisphere, heading south-west', { lat: -33.87, lon: 151.21 }, 225],
  ])('%s: one event within 2 m', (_label, start, startHeadingDeg) => {
    const options = baseDrive({ start, startHeadingDeg, durationS: 16 });
    const pothole = defectAt(options, 'pothole', 120, -0.5);
    const run = runDrive(simulateDrive({ ...options, defects: [pothole] }), { camera });
    expect(run.events).toHaveLength(1);
    expect(eventsFor(run, pothole)[0]!.errorM).toBeLessThan(2);
  });
});

describe('stale or missing GPS (the policy in docs/FUSION.md)', () => {
  const options = baseDrive({ durationS: 25 });
  const pothole = defectAt(options, 'pothole', 150, 0.8);
  const seenFrom = timeAtDistance(options, 150 - 25);
  const drive = simulateDrive({ ...options, defects: [pothole] });
  /** The drive with the fixes between `fromMs` and `toMs` (relative to the pothole first being seen) removed or made mode 1. */
  const withOutage = (fromMs: number, toMs: number, how: 'lost' | 'no-fix' = 'lost') => ({
    ...drive,
    inputs: drive.inputs.flatMap((input) => {
      if (input.kind !== 'fix' || input.fix.tMs < seenFrom + fromMs || input.fix.tMs > seenFrom + toMs) return [input];
      return how === 'lost' ? [] : [{ ...input, fix: { ...input.fix, mode: 1 as const } }];
    }),
  });

  it('a 3 s outage over the defect: dead-reckoned, reported with a wider accuracy', () => {
    const clean = runDrive(drive, { camera });
    const run = runDrive(withOutage(-1_000, 2_500), { camera });
    expect(run.events).toHaveLength(1);
    expect(eventsFor(run, pothole)[0]!.errorM).toBeLessThan(2);
    expect(run.events[0]!.event.accuracyM!).toBeGreaterThan(clean.events[0]!.event.accuracyM!);
    expect(run.stats.droppedNoPosition).toBe(0);
  });

  it.each([
    ['fixes stop for 12 s', 'lost'],
    ['the receiver reports no fix (mode 1) for 12 s', 'no-fix'],
  ] as const)('%s: no position, the detection is dropped and counted, never guessed', (_label, how) => {
    const run = runDrive(withOutage(-7_000, 5_000, how), { camera });
    expect(run.events).toHaveLength(0);
    expect(run.stats.droppedNoPosition).toBe(1);
    expect(run.stats.framesWithoutPosition).toBeGreaterThan(0);
  });

  it('no GPS at all: every frame without position, nothing reported, status says no-fix', () => {
    const run = runDrive({ ...drive, inputs: drive.inputs.filter((i) => i.kind === 'frame') }, { camera });
    expect(run.events).toHaveLength(0);
    expect(run.stats).toMatchObject({ gps: 'no-fix', eventsEmitted: 0 });
    // Without speed the tracker cannot predict the approach, so the pothole may split into two tracks.
    expect(run.stats.droppedNoPosition).toBeGreaterThanOrEqual(1);
    expect(run.stats.framesWithoutPosition).toBe(run.stats.frames);
  });

  it('a GPS that stops for good shows as stale in the status', () => {
    const run = runDrive(withOutage(2_000, 60_000), { camera });
    expect(run.stats.gps).toBe('stale');
  });
});

describe('timing helpers', () => {
  it('finds when the simulated vehicle reaches a distance', () => {
    const options = baseDrive();
    expect(timeAtDistance(options, 100) - options.startMs).toBeCloseTo(7_200, -2);
  });
});
