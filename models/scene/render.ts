// renderScene: one camera frame of a road with labelled damage, fully determined by its options.
import { PinholeCamera, randomCamera, type CameraModel } from './camera.js';
import { randomConditions, type SceneConditions } from './conditions.js';
import { damageOutline, drawDamage, lateralHalfExtent, randomDamage, type DamagePlacement, type OutlinePath, type Surface } from './damage.js';
import { drawDistractor, roadDistractors } from './distractors.js';
import { addSensorNoise, applyCamera, applyHaze, applyLighting, motionBlur } from './effects.js';
import { Frame } from './frame.js';
import { GroundRaster } from './ground.js';
import { labelFor, type LabelledBox } from './labels.js';
import { deriveSeed, hashInts, Rng } from './random.js';
import { paintGround, randomRoadLayout, roadEdges, type RoadLayout } from './road.js';
import { paintRoadside, roadsideCasters, shadowMask } from './roadside.js';
import { paintSky } from './sky.js';
import { paintVehicles, shadeUnderVehicles, vehiclesAhead } from './vehicles.js';

export interface SceneOptions {
  width: number;
  height: number;
  /** Fixes everything not given explicitly: road, camera, conditions, random damage, sensor noise. */
  seed: number;
  /** Defects to draw; absent → 0–4 random placements (10% of scenes none), fitted onto the pavement. */
  damage?: DamagePlacement[];
  conditions?: Partial<SceneConditions>;
  camera?: Partial<CameraModel>;
  road?: Partial<RoadLayout>;
  /**
   * Distance travelled along the road. Texture, lane dashes, shadows, roadside objects and distractors
   * are anchored to road distance, so frames of one drive (same seed, growing offset) stay coherent.
   * Damage zM stays relative to the camera.
   */
  roadOffsetM?: number;
}

export interface RenderedScene {
  width: number;
  height: number;
  channels: 3;
  /** Raw interleaved 8-bit RGB, width × height × 3 bytes. */
  rgb: Buffer;
  labels: LabelledBox[];
  seed: number;
  conditions: SceneConditions;
  camera: CameraModel;
  road: RoadLayout;
  /** Every placement drawn, labelled or not (too small or far defects are drawn but not labelled). */
  damage: DamagePlacement[];
}

const MAX_SIDE = 8192;

export function renderScene(options: SceneOptions): RenderedScene {
  const { width, height, seed } = options;
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 16 || value > MAX_SIDE) throw new RangeError(`renderScene: ${name} must be an integer in 16..${MAX_SIDE}, got ${value}`);
  }
  if (!Number.isFinite(seed)) throw new RangeError(`renderScene: seed must be a finite number, got ${seed}`);
  const roadOffsetM = options.roadOffsetM ?? 0;
  const conditions = randomConditions(new Rng(deriveSeed(seed, 'conditions')), options.conditions);
  const cameraModel = randomCamera(new Rng(deriveSeed(seed, 'camera')), options.camera);
  const road = randomRoadLayout(new Rng(deriveSeed(seed, 'road')), options.road);
  const edges = roadEdges(road);
  const damage = options.damage ?? randomDamage(seed).map((p) => fitOnRoad(p, edges));

  const camera = new PinholeCamera(cameraModel, width, height);
  const raster = new GroundRaster(camera, road.curvature);
  const frame = new Frame(width, height);
  const sunAzimuth = (conditions.sunAzimuthDeg * Math.PI) / 180;
  const sun = { x: Math.sin(sunAzimuth), z: Math.cos(sunAzimuth), strength: Math.min(1, conditions.shadowStrength / 0.6) };
  const surface: Surface = { frame, raster, scratch: new Float32Array(width * height), sun };

  paintGround(frame, raster, road, seed, roadOffsetM);
  for (const d of roadDistractors(seed, road, conditions.distractorDensity, roadOffsetM, damage)) drawDistractor(surface, d);
  const vehicles = vehiclesAhead(seed, road);
  shadeUnderVehicles(surface, vehicles);
  const before = frame.g.slice();
  const outlines = damage.map((p) => damageOutline(p));
  damage.forEach((p) => drawDamage(surface, p));
  const inks = outlines.map((outline) => inkWithin(raster, outline, before, frame.g));

  const casters = roadsideCasters(seed, edges, conditions.shadowDensity, roadOffsetM);
  applyLighting(frame, raster, shadowMask(raster, casters, conditions, seed, roadOffsetM), conditions, edges, seed, roadOffsetM);
  paintSky(frame, camera, conditions, seed);
  const occluded = new Uint8Array(width * height);
  paintRoadside(frame, raster, casters, conditions, occluded, seed);
  paintVehicles(frame, raster, vehicles, conditions, occluded);
  applyHaze(frame, conditions);
  applyCamera(frame, conditions);
  motionBlur(frame, conditions.motionBlurPx, conditions.motionBlurAxis);
  addSensorNoise(frame, conditions.noiseSigma, hashInts(seed, Math.round(roadOffsetM * 1000), 0x5e5));

  const labels: LabelledBox[] = [];
  damage.forEach((p, k) => {
    const label = labelFor(raster, p, outlines[k]!, { ink: inks[k]!, occluded });
    if (label) labels.push(label);
  });
  return { width, height, channels: 3, rgb: frame.toRgbBuffer(), labels, seed, conditions, camera: cameraModel, road, damage };
}

/** Shifts a random placement sideways so it lies on the pavement of this road. */
function fitOnRoad(p: DamagePlacement, [left, right]: [number, number]): DamagePlacement {
  const half = lateralHalfExtent(p) + 0.1;
  const xM = Math.min(right - half, Math.max(left + half, p.xM));
  return { ...p, xM };
}

/** Summed visible relative change of the albedo inside the projected outline's bounds. */
function inkWithin(raster: GroundRaster, outline: OutlinePath[], before: Float32Array, after: Float32Array): number {
  const rect = raster.boundsOf(outline.flatMap((path) => path.points), 3);
  if (!rect) return 0;
  let ink = 0;
  for (let v = rect.v0; v < rect.v1; v++) {
    for (let i = rect.u0, idx = v * raster.width + rect.u0; i < rect.u1; i++, idx++) {
      const b = before[idx]!;
      // Changes below ~3% vanish in sensor noise and JPEG; they make nothing visible.
      const change = Math.abs(after[idx]! - b) / (b > 0.05 ? b : 0.05) - 0.03;
      if (change > 0) ink += change;
    }
  }
  return ink;
}
