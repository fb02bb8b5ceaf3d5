// Vehicles ahead, seen from behind: a box-shaped rear (body, rear window, tail lights, bumper, dark
// underside) standing on the road, and the soft dark patch the car leaves on the road beneath it.
import type { SceneConditions } from './conditions.js';
import type { Surface } from './damage.js';
import { smoothstep, type Frame } from './frame.js';
import type { GroundRaster } from './ground.js';
import { deriveSeed, Rng } from './random.js';
import type { RoadLayout } from './road.js';

export interface Vehicle {
  /** Centre of the rear, right of the lane centre, and its distance ahead. */
  xM: number;
  zM: number;
  widthM: number;
  heightM: number;
  colour: [number, number, number];
}

const PAINTS: [number, number, number][] = [
  [0.8, 0.8, 0.8],
  [0.12, 0.12, 0.13],
  [0.45, 0.46, 0.48],
  [0.55, 0.1, 0.08],
  [0.1, 0.18, 0.4],
  [0.7, 0.7, 0.72],
  [0.25, 0.3, 0.25],
];

/** 0–2 vehicles in the lanes ahead; most scenes have none. */
export function vehiclesAhead(seed: number, layout: RoadLayout): Vehicle[] {
  const rng = new Rng(deriveSeed(seed, 'vehicles'));
  const count = rng.weighted([[0, 0.65], [1, 0.25], [2, 0.1]]);
  const vehicles: Vehicle[] = [];
  for (let k = 0; k < count; k++) {
    const lane = rng.weighted([[0, 0.5], [-1, layout.lanesLeft > 0 ? 0.4 : 0], [1, layout.lanesRight > 0 ? 0.3 : 0]]);
    const truck = rng.chance(0.15);
    const zM = rng.range(lane === 0 ? 14 : 8, 70);
    if (vehicles.some((v) => Math.abs(v.zM - zM) < 8)) continue;
    vehicles.push({
      xM: lane * layout.laneWidthM + rng.normal(0, 0.2),
      zM,
      widthM: truck ? rng.range(2.3, 2.55) : rng.range(1.65, 1.9),
      heightM: truck ? rng.range(2.8, 3.6) : rng.range(1.35, 1.75),
      colour: rng.pick(PAINTS),
    });
  }
  return vehicles.sort((a, b) => b.zM - a.zM);
}

/** Darkens the road under and just behind each vehicle (albedo, before lighting). */
export function shadeUnderVehicles(surface: Surface, vehicles: Vehicle[]): void {
  const { raster, frame } = surface;
  const q = { x: 0, z: 0 };
  for (const car of vehicles) {
    const rect = raster.boundsOfBox(car.xM, car.zM + 0.4, 1.2, car.widthM / 2 + 0.3, 0, 1);
    if (!rect) continue;
    for (let v = rect.v0; v < rect.v1; v++) {
      for (let i = rect.u0; i < rect.u1; i++) {
        raster.roadAt(i, v, q);
        const across = smoothstep(car.widthM / 2 + 0.25, car.widthM / 2 - 0.1, Math.abs(q.x - car.xM));
        const along = smoothstep(car.zM - 0.5, car.zM + 0.2, q.z);
        const k = 1 - 0.6 * across * along;
        const idx = v * raster.width + i;
        frame.r[idx]! *= k;
        frame.g[idx]! *= k;
        frame.b[idx]! *= k;
      }
    }
  }
}

/** Paints each vehicle's rear face (after lighting), farthest first, marking the pixels as occluded. */
export function paintVehicles(frame: Frame, raster: GroundRaster, vehicles: Vehicle[], conditions: SceneConditions, occluded: Uint8Array): void {
  const light = conditions.weather === 'sun' ? 1 : 0.8;
  for (const car of vehicles) {
    const tl = raster.project(car.xM - car.widthM / 2, car.zM, car.heightM);
    const br = raster.project(car.xM + car.widthM / 2, car.zM, 0);
    if (!tl || !br) continue;
    const v0 = Math.max(0, Math.floor(tl.v));
    const v1 = Math.min(frame.height, Math.ceil(br.v));
    const u0 = Math.max(0, Math.floor(tl.u));
    const u1 = Math.min(frame.width, Math.ceil(br.u));
    const [cr, cg, cb] = car.colour;
    for (let v = v0; v < v1; v++) {
      // Height above the road (0 bottom, 1 roof) and position across (0 left, 1 right).
      const y = 1 - (v + 0.5 - tl.v) / (br.v - tl.v);
      const yM = y * car.heightM;
      for (let i = u0; i < u1; i++) {
        const x = (i + 0.5 - tl.u) / (br.u - tl.u);
        const idx = v * frame.width + i;
        if (frame.depth[idx]! < car.zM) continue;
        let r = cr;
        let g = cg;
        let b = cb;
        if (yM < 0.25) r = g = b = 0.04;
        else if (yM < 0.45) r = g = b = 0.1;
        else if (y > 0.62 && y < 0.93 && x > 0.1 && x < 0.9) {
          r = 0.1;
          g = 0.11;
          b = 0.13;
        } else if (y > 0.45 && y < 0.58 && (x < 0.16 || x > 0.84)) {
          r = 0.6;
          g = 0.06;
          b = 0.05;
        } else if (yM > 0.45 && yM < 0.62 && x > 0.4 && x < 0.6) r = g = b = 0.75;
        const edge = x < 0.03 || x > 0.97 ? 0.75 : 1;
        frame.set(idx, r * light * edge, g * light * edge, b * light * edge);
        frame.depth[idx] = car.zM;
        occluded[idx] = 1;
      }
    }
  }
}
