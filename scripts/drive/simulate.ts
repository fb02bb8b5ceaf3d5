// The plan of a simulated drive: where the vehicle is at every instant, where the defects are, what
// each camera frame must show and which GPS fixes the receiver reports. Pure (no I/O): the CLI
// (generate.ts) renders the frames and writes the files.
//
// Geometry (docs/DRIVE-SIM.md has the full story):
// - The road is straight (curvature 0): it starts at `start` (the GPS antenna's position at t = 0) and
//   runs along `headingDeg`. "Road distance" D is metres along it from that start point; "lateral" is
//   metres right of the centre of the vehicle's lane, which is where the antenna and the lens ride.
// - The antenna is the vehicle position: at time t it is s(t) metres along the road (the speed
//   profile). The lens is `mount.forwardM` ahead of the antenna, at road distance s(t) + forwardM,
//   `heightM` above the road, on the lane centre (lateralM 0, yaw 0).
// - The renderer measures damage from the lens: a defect centred at road distance D, lateral x is drawn
//   at zM = D − s(t) − forwardM, xM = x; `roadOffsetM` = s(t) + forwardM (the lens's road distance), so
//   the texture, markings and roadside are anchored to the same road coordinate as the defects.
// - A defect's latitude/longitude is its centre: the start point moved D along the heading and x to
//   the right of it (agent/src/fusion/geo.ts), the same place the agent must report.
import { deriveSeed, Rng } from '../../models/scene/random.js';
import { randomConditions, type SceneConditions } from '../../models/scene/conditions.js';
import { DAMAGE_CLASSES, damageOutline, lateralHalfExtent, randomPlacement, type DamageClass, type DamagePlacement } from '../../models/scene/damage.js';
import { DEFAULT_LABEL_RULES } from '../../models/scene/labels.js';
import { randomRoadLayout, type RoadLayout } from '../../models/scene/road.js';
import { vehiclesAhead } from '../../models/scene/vehicles.js';
import type { CameraModel } from '../../models/scene/camera.js';
import { offsetLatLon, vehicleToNorthEast, type LatLon } from '../../agent/src/fusion/geo.js';

export const DRIVE_SIM_VERSION = 'roadwatch-drive/1';

/** The camera mount, in the agent's terms (config camera.mount): the lens relative to the GPS antenna. */
export interface DriveMount {
  heightM: number;
  pitchDeg: number;
  hfovDeg: number;
  /** Always 0 here: the camera looks straight along the road. */
  yawDeg: number;
  /** Always 0 here: lens, antenna and lane centre are in line. */
  lateralM: number;
  /** Lens ahead of the antenna. */
  forwardM: number;
}

/** Defaults of agent/src/config/schema.ts camera.mount (= models/scene DEFAULT_CAMERA). */
export const DEFAULT_MOUNT: Readonly<DriveMount> = Object.freeze({ heightM: 1.4, pitchDeg: 9, hfovDeg: 72, yawDeg: 0, lateralM: 0, forwardM: 0 });

export interface StopOptions {
  /** Antenna road distance where the vehicle stands. Default: 8 m (lens to centre) short of the defect nearest the middle of the drive, so it is in view throughout. */
  atM?: number;
  /** How long it stands still. */
  durationS: number;
}

export interface DriveOptions {
  /** Fixes the scene (road, light), the defects and the GPS noise. Default 1. */
  seed?: number;
  /** Renderer seed for road and conditions; default: `seed` if that scene has no vehicles ahead, else the first derived seed that has none. */
  sceneSeed?: number;
  /** Antenna position at t = 0. Default 52.09, 5.12. */
  start?: LatLon;
  /** Direction of the road, degrees clockwise from north. Default 60. */
  headingDeg?: number;
  /** UTC time of the first frame and the first GPS epoch. Default 2026-11-22T08:00:00.000Z. */
  startTime?: string;
  /** Distance the antenna travels. Default 600. */
  lengthM?: number;
  /** Cruising speed. Default 50. */
  speedKmh?: number;
  /** Braking and pulling away around a stop, m/s². Default 2. */
  accelMps2?: number;
  stop?: StopOptions | null;
  /** Camera frames per second. Default 5. */
  fps?: number;
  /** GPS epochs per second (1000/gpsHz must be a whole number of 10 ms). Default 1. */
  gpsHz?: number;
  /** Standard deviation of the reported position, metres per axis (north, east), independent per epoch. Default 0. */
  gpsNoiseM?: number;
  /** Number of defects. Default: one per 30 m of the stretch they are placed on. */
  defects?: number;
  classes?: readonly DamageClass[];
  /** Defects of one class at least this far apart along the road. Default 15. */
  minSameClassSpacingM?: number;
  /** First defect no nearer than this to the start (road distance). Default: out of label range at t = 0 (forwardM + 40). */
  firstDefectM?: number;
  mount?: Partial<DriveMount>;
  /** Conditions win over the drive defaults (no haze, motion blur ≤ 2 px, JPEG quality 90) and the seed. */
  conditions?: Partial<SceneConditions>;
  /** Frame size. Default 1280×720. */
  width?: number;
  height?: number;
}

export interface PlannedDefect extends LatLon {
  id: string;
  class: DamageClass;
  /** Road distance of the centre from the start point. */
  distanceM: number;
  /** Centre right of the lane centre. */
  lateralM: number;
  /** Along its axis, and across it (renderer conventions: models/scene/damage.ts). */
  lengthM: number;
  widthM: number;
  /** Axis direction from the driving direction toward the right. */
  angleDeg: number;
  /** Shape seed for the renderer. */
  shapeSeed: number;
  /** Road distance of its nearest and farthest drawn point (from the renderer's outline of the shape: rim and branches included). */
  nearM: number;
  farM: number;
}

/** A defect as the renderer takes it for one frame, with the defect's id. */
export type FrameDamage = DamagePlacement & { id: string };

export interface PlannedFrame {
  /** 0-based; the file is frames/{index + 1, 6 digits}.jpg. */
  index: number;
  /** Milliseconds after startTime: index · 1000 / fps. */
  tMs: number;
  /** Antenna road distance. */
  distanceM: number;
  speedMps: number;
  /** Antenna position (true, no GPS noise). */
  lat: number;
  lon: number;
  /** Lens road distance: distanceM + forwardM. */
  roadOffsetM: number;
  /** Defects near enough to be drawn, relative to the lens. */
  damage: FrameDamage[];
}

export interface GpsEpoch {
  /** Seconds after startTime. */
  tS: number;
  /** UTC, ms since 1970. */
  utcMs: number;
  /** Reported antenna position (true position plus noise). */
  lat: number;
  lon: number;
  /** The noise added, metres. */
  errorNorthM: number;
  errorEastM: number;
  speedMps: number;
  courseDeg: number;
}

export interface DrivePlan {
  version: typeof DRIVE_SIM_VERSION;
  seed: number;
  sceneSeed: number;
  startTime: string;
  startMs: number;
  start: LatLon;
  headingDeg: number;
  lengthM: number;
  speedKmh: number;
  accelMps2: number;
  /** The stop, with when it starts braking and when it moves off again (seconds after start). */
  stop: { atM: number; durationS: number; brakeS: number; standS: number; moveS: number } | null;
  fps: number;
  gpsHz: number;
  gpsNoiseM: number;
  width: number;
  height: number;
  mount: DriveMount;
  /** The renderer's camera: the mount without forwardM. */
  camera: CameraModel;
  road: RoadLayout;
  conditions: SceneConditions;
  durationS: number;
  defects: PlannedDefect[];
  frames: PlannedFrame[];
  fixes: GpsEpoch[];
}

const DEFAULTS = {
  seed: 1,
  start: { lat: 52.09, lon: 5.12 },
  headingDeg: 60,
  startTime: '2026-11-22T08:00:00.000Z',
  lengthM: 600,
  speedKmh: 50,
  accelMps2: 2,
  fps: 5,
  gpsHz: 1,
  gpsNoiseM: 0,
  metresPerDefect: 30,
  minSameClassSpacingM: 15,
  width: 1280,
  height: 720,
} as const;

/** Defects are placed from here on past the end of label range of the farthest-seen class. */
const OUT_OF_RANGE_M = Math.max(...Object.values(DEFAULT_LABEL_RULES.maxDistanceM)) + 10;
/** The lens passes the last defect by at least this much before the drive ends. */
const TAIL_M = 10;
/** Defects are handed to the renderer from this far behind the lens to this far ahead. */
const DRAW_BEHIND_M = 1;
const DRAW_AHEAD_M = 200;

export function simulateDrive(options: DriveOptions = {}): DrivePlan {
  const seed = options.seed ?? DEFAULTS.seed;
  const lengthM = options.lengthM ?? DEFAULTS.lengthM;
  const speedKmh = options.speedKmh ?? DEFAULTS.speedKmh;
  const accelMps2 = options.accelMps2 ?? DEFAULTS.accelMps2;
  const fps = options.fps ?? DEFAULTS.fps;
  const gpsHz = options.gpsHz ?? DEFAULTS.gpsHz;
  const gpsNoiseM = options.gpsNoiseM ?? DEFAULTS.gpsNoiseM;
  const width = options.width ?? DEFAULTS.width;
  const height = options.height ?? DEFAULTS.height;
  const headingDeg = ((((options.headingDeg ?? DEFAULTS.headingDeg) % 360) + 360) % 360);
  const start = options.start ?? DEFAULTS.start;
  const startTime = options.startTime ?? DEFAULTS.startTime;
  const startMs = Date.parse(startTime);
  const mount: DriveMount = { ...DEFAULT_MOUNT, ...defined(options.mount ?? {}), yawDeg: 0, lateralM: 0 };

  check(Number.isInteger(seed), `seed must be an integer, got ${seed}`);
  check(lengthM > 0 && Number.isFinite(lengthM), `lengthM must be > 0, got ${lengthM}`);
  check(speedKmh > 0 && speedKmh <= 200, `speedKmh must be in (0, 200], got ${speedKmh}`);
  check(accelMps2 > 0, `accelMps2 must be > 0, got ${accelMps2}`);
  check(fps > 0 && fps <= 60, `fps must be in (0, 60], got ${fps}`);
  check(gpsHz > 0 && Number.isInteger(100 / gpsHz), `gpsHz must divide 100 (1, 2, 4, 5, 10, 20, 25, 50, 100), got ${gpsHz}`);
  check(gpsNoiseM >= 0, `gpsNoiseM must be ≥ 0, got ${gpsNoiseM}`);
  check(Number.isFinite(startMs), `startTime must be an ISO 8601 time, got ${startTime}`);
  check(startMs % 10 === 0, `startTime must be a whole number of 10 ms (NMEA times carry hundredths of a second), got ${startTime}`);
  check(Math.abs(start.lat) < 85 && Math.abs(start.lon) <= 180, `start must be a latitude within ±85° and a longitude within ±180°`);
  check(mount.forwardM >= 0 && mount.forwardM <= 10, `mount.forwardM must be in 0..10, got ${mount.forwardM}`);

  const sceneSeed = options.sceneSeed ?? quietSceneSeed(seed);
  const road = randomRoadLayout(new Rng(deriveSeed(sceneSeed, 'road')), { curvature: 0 });
  const conditions = driveConditions(sceneSeed, options.conditions ?? {});
  const camera: CameraModel = { heightM: mount.heightM, pitchDeg: mount.pitchDeg, yawDeg: 0, hfovDeg: mount.hfovDeg, lateralM: 0 };

  const firstM = options.firstDefectM ?? mount.forwardM + OUT_OF_RANGE_M;
  const lastM = lengthM - mount.forwardM - TAIL_M;
  const defects = placeDefects({
    rng: new Rng(deriveSeed(seed, 'drive-defects')),
    count: options.defects ?? Math.max(0, Math.floor((lastM - firstM) / DEFAULTS.metresPerDefect)),
    classes: options.classes ?? DAMAGE_CLASSES,
    firstM,
    lastM,
    minSameClassSpacingM: options.minSameClassSpacingM ?? DEFAULTS.minSameClassSpacingM,
    laneWidthM: road.laneWidthM,
    start,
    headingDeg,
  });

  const cruise = (speedKmh * 1000) / 3600;
  let stop: DrivePlan['stop'] = null;
  if (options.stop && options.stop.durationS > 0) {
    const middle = [...defects].sort((a, b) => Math.abs(a.distanceM - lengthM / 2) - Math.abs(b.distanceM - lengthM / 2))[0];
    const atM = round(options.stop.atM ?? (middle ? middle.distanceM - mount.forwardM - 8 : lengthM / 2), 2);
    check(atM > 0 && atM < lengthM, `stop.atM must be inside the drive (0..${lengthM}), got ${atM}`);
    stop = { atM, durationS: options.stop.durationS, brakeS: 0, standS: 0, moveS: 0 };
  }
  const profile = new SpeedProfile(cruise, accelMps2, stop);
  if (stop) Object.assign(stop, profile.stopTimes());
  const durationS = profile.timeAt(lengthM);

  const frames: PlannedFrame[] = [];
  for (let index = 0; index / fps <= durationS + 1e-9; index++) {
    const tS = index / fps;
    const { distanceM, speedMps } = profile.at(tS);
    const roadOffsetM = distanceM + mount.forwardM;
    const here = offsetLatLon(start, vehicleToNorthEast(headingDeg, distanceM, 0));
    const damage: FrameDamage[] = [];
    for (const d of defects) {
      const zM = d.distanceM - roadOffsetM;
      if (d.farM - roadOffsetM < -DRAW_BEHIND_M || d.nearM - roadOffsetM > DRAW_AHEAD_M) continue;
      damage.push({ id: d.id, cls: d.class, xM: d.lateralM, zM, lengthM: d.lengthM, widthM: d.widthM, angleDeg: d.angleDeg, seed: d.shapeSeed });
    }
    frames.push({ index, tMs: (index * 1000) / fps, distanceM, speedMps, lat: here.lat, lon: here.lon, roadOffsetM, damage });
  }

  const noise = new Rng(deriveSeed(seed, 'gps-noise'));
  const fixes: GpsEpoch[] = [];
  for (let k = 0; k / gpsHz <= durationS + 1e-9; k++) {
    const tS = k / gpsHz;
    const { distanceM, speedMps } = profile.at(tS);
    const errorNorthM = gpsNoiseM > 0 ? noise.normal(0, gpsNoiseM) : 0;
    const errorEastM = gpsNoiseM > 0 ? noise.normal(0, gpsNoiseM) : 0;
    const truth = vehicleToNorthEast(headingDeg, distanceM, 0);
    const at = offsetLatLon(start, { northM: truth.northM + errorNorthM, eastM: truth.eastM + errorEastM });
    fixes.push({ tS, utcMs: startMs + Math.round((k * 1000) / gpsHz), lat: at.lat, lon: at.lon, errorNorthM, errorEastM, speedMps, courseDeg: headingDeg });
  }

  return {
    version: DRIVE_SIM_VERSION,
    seed,
    sceneSeed,
    startTime: new Date(startMs).toISOString(),
    startMs,
    start: { lat: start.lat, lon: start.lon },
    headingDeg,
    lengthM,
    speedKmh,
    accelMps2,
    stop,
    fps,
    gpsHz,
    gpsNoiseM,
    width,
    height,
    mount,
    camera,
    road,
    conditions,
    durationS,
    defects,
    frames,
    fixes,
  };
}

/** The road point `distanceM` along the drive's road and `lateralM` right of the lane centre. */
export function roadPoint(plan: Pick<DrivePlan, 'start' | 'headingDeg'>, distanceM: number, lateralM = 0): LatLon {
  return offsetLatLon(plan.start, vehicleToNorthEast(plan.headingDeg, distanceM, lateralM));
}

/** The frame file name of a 0-based frame index: 000001.jpg for index 0 (what ffmpeg's image2 reads as %06d.jpg from 1). */
export function frameFileName(index: number): string {
  return `${String(index + 1).padStart(6, '0')}.jpg`;
}

/**
 * Constant cruise, or cruise – brake – stand – pull away – cruise around one stop. Piecewise constant
 * acceleration: s(t) = s0 + v0·(t − t0) + a·(t − t0)²/2 within each phase.
 */
export class SpeedProfile {
  private readonly phases: { t0: number; s0: number; v0: number; a: number }[] = [];

  constructor(
    cruiseMps: number,
    accelMps2: number,
    stop: { atM: number; durationS: number } | null,
  ) {
    if (!stop) {
      this.phases.push({ t0: 0, s0: 0, v0: cruiseMps, a: 0 });
      return;
    }
    const brakeM = (cruiseMps * cruiseMps) / (2 * accelMps2);
    const brakeAtM = stop.atM - brakeM;
    check(brakeAtM >= 0, `the stop at ${stop.atM} m is too near the start: braking from ${(cruiseMps * 3.6).toFixed(0)} km/h at ${accelMps2} m/s² takes ${brakeM.toFixed(1)} m`);
    const brakeS = brakeAtM / cruiseMps;
    const standS = brakeS + cruiseMps / accelMps2;
    const moveS = standS + stop.durationS;
    this.phases.push(
      { t0: 0, s0: 0, v0: cruiseMps, a: 0 },
      { t0: brakeS, s0: brakeAtM, v0: cruiseMps, a: -accelMps2 },
      { t0: standS, s0: stop.atM, v0: 0, a: 0 },
      { t0: moveS, s0: stop.atM, v0: 0, a: accelMps2 },
      { t0: moveS + cruiseMps / accelMps2, s0: stop.atM + brakeM, v0: cruiseMps, a: 0 },
    );
  }

  /** When it starts braking, comes to a standstill and moves off again. */
  stopTimes(): { brakeS: number; standS: number; moveS: number } {
    const [, brake, stand, move] = this.phases;
    return { brakeS: brake?.t0 ?? 0, standS: stand?.t0 ?? 0, moveS: move?.t0 ?? 0 };
  }

  at(tS: number): { distanceM: number; speedMps: number } {
    let phase = this.phases[0]!;
    for (const p of this.phases) if (p.t0 <= tS) phase = p;
    const dt = Math.max(0, tS - phase.t0);
    return { distanceM: phase.s0 + phase.v0 * dt + (phase.a * dt * dt) / 2, speedMps: Math.max(0, phase.v0 + phase.a * dt) };
  }

  /** The first time the antenna reaches road distance d. */
  timeAt(distanceM: number): number {
    for (let k = 0; k < this.phases.length; k++) {
      const p = this.phases[k]!;
      const end = this.phases[k + 1]?.s0 ?? Infinity;
      if (distanceM > end || (p.v0 === 0 && p.a === 0)) continue;
      const ds = distanceM - p.s0;
      if (p.a === 0) return p.t0 + ds / p.v0;
      // s0 + v0·t + a·t²/2 = d: the first root
      return p.t0 + (-p.v0 + Math.sqrt(Math.max(0, p.v0 * p.v0 + 2 * p.a * ds))) / p.a;
    }
    return this.phases[this.phases.length - 1]!.t0;
  }
}

/** The seed's conditions with the drive defaults for anything the caller did not set. */
export function driveConditions(sceneSeed: number, overrides: Partial<SceneConditions>): SceneConditions {
  const given = defined(overrides);
  let conditions = randomConditions(new Rng(deriveSeed(sceneSeed, 'conditions')), given);
  // Heavy haze (visibility 50–160 m) hides defects the detector should see; a drive is clear unless asked.
  if (given.weather === undefined && conditions.weather === 'haze') conditions = randomConditions(new Rng(deriveSeed(sceneSeed, 'conditions')), { ...given, weather: 'overcast' });
  return {
    ...conditions,
    motionBlurPx: given.motionBlurPx ?? Math.min(conditions.motionBlurPx, 2),
    jpegQuality: given.jpegQuality ?? 90,
  };
}

/** `seed` unless its scene has vehicles ahead (they would ride along at a fixed distance), else the first quiet derived seed. */
export function quietSceneSeed(seed: number): number {
  for (let k = 0; k < 200; k++) {
    const candidate = k === 0 ? seed : deriveSeed(seed, `scene-${k}`) % 1_000_000_000;
    const road = randomRoadLayout(new Rng(deriveSeed(candidate, 'road')), { curvature: 0 });
    if (vehiclesAhead(candidate, road).length === 0) return candidate;
  }
  return seed;
}

interface PlaceArgs {
  rng: Rng;
  count: number;
  classes: readonly DamageClass[];
  firstM: number;
  lastM: number;
  minSameClassSpacingM: number;
  laneWidthM: number;
  start: LatLon;
  headingDeg: number;
}

/**
 * One defect per equal slot of [firstM, lastM], at a random place inside it; the class is the least
 * used one that keeps its kind `minSameClassSpacingM` apart (ties drawn at random). Shapes and sizes
 * come from the renderer's own randomPlacement; the lateral position is redrawn within the lane (wheel
 * paths mostly) and kept on it.
 */
function placeDefects(args: PlaceArgs): PlannedDefect[] {
  const { rng, count, classes, firstM, lastM } = args;
  check(Number.isInteger(count) && count >= 0, `defects must be a whole number ≥ 0, got ${count}`);
  check(classes.length > 0 && classes.every((c) => (DAMAGE_CLASSES as readonly string[]).includes(c)), `classes must be some of ${DAMAGE_CLASSES.join(' ')}`);
  if (count === 0) return [];
  check(lastM > firstM, `the drive is too short for defects: they go between ${firstM.toFixed(0)} m and ${lastM.toFixed(0)} m`);
  const slot = (lastM - firstM) / count;
  const used = new Map<DamageClass, number>(classes.map((c) => [c, 0]));
  const placed: PlannedDefect[] = [];
  const half = args.laneWidthM / 2;
  for (let k = 0; k < count; k++) {
    let done = false;
    for (let attempt = 0; attempt < 60 && !done; attempt++) {
      const distanceM = round(firstM + slot * (k + rng.range(0.1, 0.9)), 2);
      const fits = classes.filter((c) => placed.every((o) => o.class !== c || Math.abs(o.distanceM - distanceM) >= args.minSameClassSpacingM));
      if (fits.length === 0) continue;
      const fewest = Math.min(...fits.map((c) => used.get(c)!));
      const cls = rng.pick(fits.filter((c) => used.get(c) === fewest));
      const shape = randomPlacement(rng, cls);
      const wheelPath = rng.chance(0.7);
      let lateral = wheelPath ? rng.normal(rng.chance(0.5) ? -0.25 * args.laneWidthM : 0.25 * args.laneWidthM, 0.2) : rng.normal(0, 0.35);
      if (cls === 'D10') lateral *= 0.6;
      const candidate: DamagePlacement = { ...shape, xM: 0, zM: 0 };
      const room = Math.max(0, half - 0.1 - lateralHalfExtent(candidate));
      candidate.xM = round(Math.max(-room, Math.min(room, lateral)), 2);
      candidate.lengthM = round(candidate.lengthM, 2);
      candidate.widthM = round(candidate.widthM, 2);
      candidate.angleDeg = round(candidate.angleDeg, 1);
      const extent = alongRoadExtent(candidate);
      const nearM = round(distanceM + extent.behindM, 3);
      const farM = round(distanceM + extent.aheadM, 3);
      if (!placed.every((o) => o.farM + 0.5 < nearM || farM + 0.5 < o.nearM)) continue;
      const at = offsetLatLon(args.start, vehicleToNorthEast(args.headingDeg, distanceM, candidate.xM));
      placed.push({
        id: `d${String(k + 1).padStart(2, '0')}`,
        class: cls,
        lat: at.lat,
        lon: at.lon,
        distanceM,
        lateralM: candidate.xM,
        lengthM: candidate.lengthM,
        widthM: candidate.widthM,
        angleDeg: candidate.angleDeg,
        shapeSeed: candidate.seed,
        nearM,
        farM,
      });
      used.set(cls, used.get(cls)! + 1);
      done = true;
    }
    check(done, `cannot place ${count} defects between ${firstM.toFixed(0)} m and ${lastM.toFixed(0)} m with ${args.minSameClassSpacingM} m between defects of one class; use fewer defects or a longer drive`);
  }
  return placed;
}

/** How far the drawn shape reaches behind (negative) and ahead of its centre along the road: the renderer's own outline. */
export function alongRoadExtent(p: DamagePlacement): { behindM: number; aheadM: number } {
  let behindM = 0;
  let aheadM = 0;
  for (const path of damageOutline({ ...p, zM: 0 })) {
    for (let k = 1; k < path.points.length; k += 2) {
      behindM = Math.min(behindM, path.points[k]!);
      aheadM = Math.max(aheadM, path.points[k]!);
    }
  }
  return { behindM, aheadM };
}

function defined<T extends object>(partial: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale || 0; // never -0 (JSON writes it as 0)
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new RangeError(`simulateDrive: ${message}`);
}
