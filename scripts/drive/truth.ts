// truth.json: what a simulated drive contains, for scoring a replay of it (score.ts).
import { GENERATOR_VERSION } from '../../models/scene/dataset.js';
import type { SceneConditions } from '../../models/scene/conditions.js';
import type { DamageClass } from '../../models/scene/damage.js';
import type { RoadLayout } from '../../models/scene/road.js';
import { frameFileName, type DriveMount, type DrivePlan } from './simulate.js';

export interface TruthDefect {
  id: string;
  class: DamageClass;
  /** The defect's centre (what the agent should report). */
  lat: number;
  lon: number;
  /** Road distance of the centre from the start point (the antenna at t = 0), along the heading. */
  distanceM: number;
  /** Centre right of the lane centre (the vehicle's line). */
  lateralM: number;
  lengthM: number;
  widthM: number;
  angleDeg: number;
  /** Road distance of the nearest and farthest drawn point. */
  nearM: number;
  farM: number;
  /** Renderer shape seed. */
  shapeSeed: number;
}

/** A renderer label in one frame: the defect is visible there (models/scene/labels.ts rules). */
export interface TruthBox {
  defectId: string;
  class: DamageClass;
  /** x1, y1, x2, y2 in pixels. */
  box: [number, number, number, number];
}

export interface TruthFrame {
  index: number;
  /** Relative to the drive directory. */
  file: string;
  /** Milliseconds after startTime (index · 1000 / fps). */
  tMs: number;
  /** startTime + tMs, ISO 8601 (ms). */
  time: string;
  /** Antenna road distance and speed. */
  distanceM: number;
  speedKmh: number;
  /** True antenna position. */
  lat: number;
  lon: number;
  /** Defects the renderer labelled in this frame (absent when the frames were not rendered). */
  boxes?: TruthBox[];
}

export interface Truth {
  version: 'roadwatch-drive/1';
  /** Scene renderer version the frames came from. */
  generator: string;
  seed: number;
  sceneSeed: number;
  /** UTC of frame 0 and of the first NMEA epoch. */
  startTime: string;
  fps: number;
  gpsHz: number;
  gpsNoiseM: number;
  speedKmh: number;
  lengthM: number;
  durationS: number;
  frameCount: number;
  frame: { width: number; height: number };
  /** The camera mount to give the agent (config camera.mount). */
  mount: DriveMount;
  /** Antenna position at t = 0 and the road's direction. */
  start: { lat: number; lon: number };
  headingDeg: number;
  stop: DrivePlan['stop'];
  files: { frames: string; firstFrame: number; nmea: string; video: string | null };
  conditions: SceneConditions;
  road: RoadLayout;
  defects: TruthDefect[];
  frames: TruthFrame[];
}

export const TRUTH_FILE = 'truth.json';
export const NMEA_FILE = 'drive.nmea';
export const VIDEO_FILE = 'drive.mkv';

export function makeTruth(plan: DrivePlan, options: { boxes?: ReadonlyMap<number, TruthBox[]>; video?: boolean } = {}): Truth {
  return {
    version: plan.version,
    generator: GENERATOR_VERSION,
    seed: plan.seed,
    sceneSeed: plan.sceneSeed,
    startTime: plan.startTime,
    fps: plan.fps,
    gpsHz: plan.gpsHz,
    gpsNoiseM: plan.gpsNoiseM,
    speedKmh: plan.speedKmh,
    lengthM: plan.lengthM,
    durationS: round(plan.durationS, 3),
    frameCount: plan.frames.length,
    frame: { width: plan.width, height: plan.height },
    mount: plan.mount,
    start: plan.start,
    headingDeg: plan.headingDeg,
    stop: plan.stop && { ...plan.stop, brakeS: round(plan.stop.brakeS, 3), standS: round(plan.stop.standS, 3), moveS: round(plan.stop.moveS, 3) },
    files: { frames: 'frames/%06d.jpg', firstFrame: 1, nmea: NMEA_FILE, video: options.video ? VIDEO_FILE : null },
    conditions: plan.conditions,
    road: plan.road,
    defects: plan.defects.map((d) => ({
      id: d.id,
      class: d.class,
      lat: round(d.lat, 9),
      lon: round(d.lon, 9),
      distanceM: d.distanceM,
      lateralM: d.lateralM,
      lengthM: d.lengthM,
      widthM: d.widthM,
      angleDeg: d.angleDeg,
      nearM: d.nearM,
      farM: d.farM,
      shapeSeed: d.shapeSeed,
    })),
    frames: plan.frames.map((f) => {
      const frame: TruthFrame = {
        index: f.index,
        file: `frames/${frameFileName(f.index)}`,
        tMs: round(f.tMs, 3),
        time: new Date(plan.startMs + Math.round(f.tMs)).toISOString(),
        distanceM: round(f.distanceM, 3),
        speedKmh: round(f.speedMps * 3.6, 2),
        lat: round(f.lat, 9),
        lon: round(f.lon, 9),
      };
      const boxes = options.boxes?.get(f.index);
      if (boxes) frame.boxes = boxes;
      return frame;
    }),
  };
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
