// A synthetic drive for fusion tests: a vehicle on a road (straight, or a constant-radius bend), GPS
// fixes at a fixed rate with latency and noise, camera frames whose detection boxes come from the
// forward projection of each defect's road footprint through the same camera geometry — the way the
// scene renderer draws them (outline bounds plus a 2 px margin) — with edge jitter and missed frames.
import type { ClockSource } from '@roadwatch/shared';
import type { Box, Detection } from '../../detect/detector.js';
import { pinhole, projectToImage, type CameraGeometry, type ImageSize } from '../camera-geometry.js';
import { localOffsetM, northEastToVehicle, offsetLatLon, vehicleToNorthEast, type LatLon } from '../geo.js';
import type { FrameInput } from '../index.js';
import type { FixSample } from '../interpolate.js';

export interface SimDefect extends LatLon {
  id: string;
  class: string;
  /** Footprint along and across the road. */
  lengthM: number;
  widthM: number;
}

export interface FalsePositive {
  tMs: number;
  class: string;
  box: Box;
  confidence: number;
}

export interface DriveOptions {
  camera: CameraGeometry;
  image: ImageSize;
  start: LatLon;
  startHeadingDeg: number;
  /** Vehicle speed (m/s) at t seconds into the drive. */
  speedMps: (tS: number) => number;
  /** Heading change rate (deg/s) at t seconds; 0 for a straight road. */
  turnRateDegPerS?: (tS: number) => number;
  durationS: number;
  startMs: number;
  fixHz: number;
  /** A fix becomes available this long after its epoch (NMEA arrives after the second it describes). */
  fixLatencyMs: number;
  gpsNoiseM: number;
  fps: number;
  /** First frame this long after startMs (frames and fixes are not aligned). */
  framePhaseMs: number;
  clock: ClockSource;
  defects: SimDefect[];
  falsePositives: FalsePositive[];
  /** The detector finds a defect whose centre is between these distances ahead. */
  detectFromM: number;
  detectToM: number;
  boxJitterPx: number;
  missProbability: number;
  seed: number;
}

export interface VehicleTruth extends LatLon {
  tMs: number;
  headingDeg: number;
  speedMps: number;
}

export type DriveInput = { kind: 'fix'; atMs: number; fix: FixSample } | { kind: 'frame'; atMs: number; frame: FrameInput };

export interface Drive {
  /** Fixes and frames in the order they reach the agent. */
  inputs: DriveInput[];
  truth: VehicleTruth[];
  /** For each defect, the frame times at which it was detected. */
  detectedAt: Map<string, number[]>;
}

const STEP_MS = 10;

export function simulateDrive(options: DriveOptions): Drive {
  const rng = seededRandom(options.seed);
  const truth = integrateTrajectory(options);
  const at = (tMs: number): VehicleTruth => truth[Math.min(truth.length - 1, Math.max(0, Math.round((tMs - options.startMs) / STEP_MS)))]!;
  const inputs: DriveInput[] = [];
  const endMs = options.startMs + options.durationS * 1000;

  for (let tMs = options.startMs; tMs <= endMs; tMs += 1000 / options.fixHz) {
    const v = at(tMs);
    const noisy = offsetLatLon(v, { northM: rng.normal() * options.gpsNoiseM, eastM: rng.normal() * options.gpsNoiseM });
    const fix: FixSample = { tMs, lat: noisy.lat, lon: noisy.lon, speedKmh: v.speedMps * 3.6, courseDeg: v.headingDeg, mode: 3, hdop: 0.9 };
    inputs.push({ kind: 'fix', atMs: tMs + options.fixLatencyMs, fix });
  }

  const detectedAt = new Map<string, number[]>(options.defects.map((d) => [d.id, []]));
  const cam = pinhole(options.camera, options.image);
  for (let tMs = options.startMs + options.framePhaseMs; tMs <= endMs; tMs += 1000 / options.fps) {
    const v = at(tMs);
    const detections: Detection[] = [];
    for (const defect of options.defects) {
      const seen = defectBox(cam, options, v, defect);
      if (!seen || rng.next() < options.missProbability) continue;
      const jittered = seen.box.map((x) => x + rng.normal() * options.boxJitterPx) as Box;
      const nearness = 1 - (seen.lensZ - options.detectFromM) / (options.detectToM - options.detectFromM);
      const confidence = Math.min(0.97, Math.max(0.05, 0.5 + 0.4 * nearness + rng.normal() * 0.03));
      detections.push({ class: defect.class, classIndex: 0, confidence, box: jittered });
      detectedAt.get(defect.id)!.push(tMs);
    }
    for (const fp of options.falsePositives) {
      if (Math.abs(fp.tMs - tMs) < 500 / options.fps) detections.push({ class: fp.class, classIndex: 1, confidence: fp.confidence, box: fp.box });
    }
    inputs.push({ kind: 'frame', atMs: tMs, frame: { tMs, clock: options.clock, detections, frame: options.image } });
  }
  inputs.sort((a, b) => a.atMs - b.atMs || (a.kind === 'fix' ? -1 : 1));
  return { inputs, truth, detectedAt };
}

/** The defect's image box as the renderer would draw it, or null when the detector would not see it. */
function defectBox(cam: ReturnType<typeof pinhole>, options: DriveOptions, v: VehicleTruth, defect: SimDefect): { box: Box; lensZ: number } | null {
  const rel = northEastToVehicle(v.headingDeg, localOffsetM(v, defect));
  const lensZ = rel.aheadM - (options.camera.forwardM ?? 0);
  if (lensZ < options.detectFromM || lensZ > options.detectToM) return null;
  let u0 = Infinity;
  let v0 = Infinity;
  let u1 = -Infinity;
  let v1 = -Infinity;
  const steps = 4;
  for (let i = 0; i <= steps; i++) {
    for (let j = 0; j <= steps; j++) {
      const z = lensZ + (i / steps - 0.5) * defect.lengthM;
      const x = rel.rightM + (j / steps - 0.5) * defect.widthM;
      const p = projectToImage(cam, { xM: x, zM: Math.max(0.3, z) });
      if (!p) continue;
      u0 = Math.min(u0, p.u);
      v0 = Math.min(v0, p.v);
      u1 = Math.max(u1, p.u);
      v1 = Math.max(v1, p.v);
    }
  }
  const { w, h } = options.image;
  const box: Box = [Math.max(0, u0 - 2), Math.max(0, v0 - 2), Math.min(w, u1 + 2), Math.min(h, v1 + 2)];
  return box[2] - box[0] >= 4 && box[3] - box[1] >= 2 && box[1] < h && box[0] < w && box[2] > 0 ? { box, lensZ } : null;
}

function integrateTrajectory(options: DriveOptions): VehicleTruth[] {
  const out: VehicleTruth[] = [];
  let position: LatLon = options.start;
  let heading = options.startHeadingDeg;
  const steps = Math.ceil((options.durationS * 1000) / STEP_MS) + 1;
  for (let k = 0; k <= steps; k++) {
    const tS = (k * STEP_MS) / 1000;
    const speed = options.speedMps(tS);
    out.push({ tMs: options.startMs + k * STEP_MS, lat: position.lat, lon: position.lon, headingDeg: ((heading % 360) + 360) % 360, speedMps: speed });
    const turn = options.turnRateDegPerS?.(tS) ?? 0;
    const mid = heading + (turn * STEP_MS) / 2000;
    position = offsetLatLon(position, vehicleToNorthEast(mid, (speed * STEP_MS) / 1000, 0));
    heading += (turn * STEP_MS) / 1000;
  }
  return out;
}

/** The point on the vehicle's path `distanceM` metres from the start (and `rightM` to the right of it). */
export function pointOnRoute(options: DriveOptions, distanceM: number, rightM = 0): LatLon {
  let travelled = 0;
  for (const v of integrateTrajectory(options)) {
    if (travelled >= distanceM) return offsetLatLon(v, vehicleToNorthEast(v.headingDeg, 0, rightM));
    travelled += (v.speedMps * STEP_MS) / 1000;
  }
  throw new RangeError(`the drive ends before ${distanceM} m`);
}

/** When the vehicle has driven `distanceM` from the start. */
export function timeAtDistance(options: DriveOptions, distanceM: number): number {
  let travelled = 0;
  for (const v of integrateTrajectory(options)) {
    if (travelled >= distanceM) return v.tMs;
    travelled += (v.speedMps * STEP_MS) / 1000;
  }
  throw new RangeError(`the drive ends before ${distanceM} m`);
}

/** The true vehicle state at tMs. */
export function truthAt(truth: readonly VehicleTruth[], tMs: number): VehicleTruth {
  return truth.find((p) => p.tMs >= tMs) ?? truth[truth.length - 1]!;
}

export function seededRandom(seed: number): { next: () => number; normal: () => number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    const u = Math.max(next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { next, normal };
}
