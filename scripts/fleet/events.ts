// Realistic road-damage events for simulated vehicles: each vehicle drives a street grid inside a
// city bounding box (straight streets, turns at junctions, 20–60 km/h) and reports defects of the
// RDD classes D00 (longitudinal crack), D10 (transverse crack), D20 (alligator crack) and D40
// (pothole) where it is, with GPS accuracy, heading, speed, a box in a 1280×720 frame and a
// UUIDv7 event id, in the wire format of shared/src/protocol.ts.
import { newEventId, type RoadEvent } from '@roadwatch/shared';
import { mulberry32 } from '../../models/scene/random.js';

/** South-west and north-east corners, WGS84 degrees. */
export interface Bbox {
  minLat: number;
  minLon: number;
  maxLat: number;
  maxLon: number;
}

/** Berlin inside the ring, about 12 × 13 km. */
export const CITY_BBOX: Bbox = { minLat: 52.46, minLon: 13.28, maxLat: 52.57, maxLon: 13.47 };

/** Street spacing of the grid, degrees (≈ 330 m north–south, ≈ 340 m east–west at 52.5° N). */
const GRID_LAT = 0.003;
const GRID_LON = 0.005;
const M_PER_DEG_LAT = 111_320;

/** Share of each class among the events (cracks are common, potholes rarer). */
export const CLASS_WEIGHTS: ReadonlyArray<readonly [string, number]> = [
  ['D00', 0.35],
  ['D10', 0.25],
  ['D20', 0.25],
  ['D40', 0.15],
];
export const MODEL = 'road-damage-tiny@1';

/** mulberry32: a small seeded PRNG, so a run with the same seed drives the same streets. */
export const seededRandom = mulberry32;

const HEADINGS = [0, 90, 180, 270] as const;

/**
 * One vehicle's drive and the events it reports. `next(ts)` moves the vehicle by the time since the
 * previous event at its current speed and returns the event found there, with the next `seq`.
 */
export class RoadEventSource {
  seq = 0;
  private lat: number;
  private lon: number;
  private dir: number;
  private speedKmh: number;
  private lastTs: number | null = null;
  private readonly cosLat: number;

  constructor(
    private readonly rand: () => number,
    private readonly bbox: Bbox = CITY_BBOX,
  ) {
    // Start on a random junction-aligned street.
    const rows = Math.floor((bbox.maxLat - bbox.minLat) / GRID_LAT);
    const cols = Math.floor((bbox.maxLon - bbox.minLon) / GRID_LON);
    this.dir = Math.floor(rand() * 4);
    this.lat = bbox.minLat + Math.floor(rand() * (rows + 1)) * GRID_LAT;
    this.lon = bbox.minLon + Math.floor(rand() * (cols + 1)) * GRID_LON;
    if (this.dir % 2 === 0) this.lat = bbox.minLat + rand() * (bbox.maxLat - bbox.minLat);
    else this.lon = bbox.minLon + rand() * (bbox.maxLon - bbox.minLon);
    this.speedKmh = 20 + rand() * 40;
    this.cosLat = Math.cos((((bbox.minLat + bbox.maxLat) / 2) * Math.PI) / 180);
  }

  /** The next event, found at `tsMs` (epoch ms) where the vehicle then is. */
  next(tsMs: number): RoadEvent {
    const dtS = this.lastTs === null ? 0 : Math.max(0, (tsMs - this.lastTs) / 1000);
    this.lastTs = tsMs;
    this.drive((this.speedKmh / 3.6) * Math.min(dtS, 600));
    const r = this.rand;
    this.speedKmh = Math.min(60, Math.max(15, this.speedKmh + (r() - 0.5) * 6));
    const cls = pickClass(r());
    const accuracyM = round(1.5 + r() * 4.5, 1);
    // GPS noise around the street's centre line (≈ accuracy).
    const noiseM = (r() - 0.5) * accuracyM;
    const lat = this.dir % 2 === 1 ? this.lat + noiseM / M_PER_DEG_LAT : this.lat;
    const lon = this.dir % 2 === 0 ? this.lon + noiseM / (M_PER_DEG_LAT * this.cosLat) : this.lon;
    const w = 40 + Math.floor(r() * 260);
    const h = 20 + Math.floor(r() * 140);
    const x = Math.floor(r() * (1280 - w));
    const y = 360 + Math.floor(r() * (360 - h));
    this.seq += 1;
    return {
      eventId: newEventId(),
      seq: this.seq,
      ts: new Date(tsMs).toISOString(),
      clock: 'gps',
      lat: round(lat, 6),
      lon: round(lon, 6),
      accuracyM,
      speedKmh: round(this.speedKmh, 1),
      headingDeg: round((HEADINGS[this.dir]! + (r() - 0.5) * 6 + 360) % 360, 1) % 360,
      class: cls,
      confidence: round(0.35 + r() * 0.63, 3),
      hits: 1 + Math.floor(r() * 12),
      bbox: [x, y, x + w, y + h],
      frame: { w: 1280, h: 720 },
      model: MODEL,
    };
  }

  /** Moves `meters` along the current street, turning at junctions now and then, bouncing off the bbox. */
  private drive(meters: number): void {
    let left = meters;
    while (left > 0) {
      const vertical = this.dir % 2 === 0; // north or south
      const step = vertical ? GRID_LAT * M_PER_DEG_LAT : GRID_LON * M_PER_DEG_LAT * this.cosLat;
      const move = Math.min(left, step);
      left -= move;
      const sign = this.dir === 0 || this.dir === 1 ? 1 : -1;
      if (vertical) this.lat += (sign * move) / M_PER_DEG_LAT;
      else this.lon += (sign * move) / (M_PER_DEG_LAT * this.cosLat);
      const b = this.bbox;
      if (this.lat > b.maxLat || this.lat < b.minLat || this.lon > b.maxLon || this.lon < b.minLon) {
        this.lat = Math.min(b.maxLat, Math.max(b.minLat, this.lat));
        this.lon = Math.min(b.maxLon, Math.max(b.minLon, this.lon));
        this.dir = (this.dir + 2) % 4;
      } else if (move === step && this.rand() < 0.3) {
        // At a junction: snap onto the crossing street and turn left or right.
        if (vertical) this.lat = b.minLat + Math.round((this.lat - b.minLat) / GRID_LAT) * GRID_LAT;
        else this.lon = b.minLon + Math.round((this.lon - b.minLon) / GRID_LON) * GRID_LON;
        this.dir = (this.dir + (this.rand() < 0.5 ? 1 : 3)) % 4;
      }
    }
  }
}

function pickClass(u: number): string {
  let acc = 0;
  for (const [name, weight] of CLASS_WEIGHTS) {
    acc += weight;
    if (u < acc) return name;
  }
  return CLASS_WEIGHTS[CLASS_WEIGHTS.length - 1]![0];
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
