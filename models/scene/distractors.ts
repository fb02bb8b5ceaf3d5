// Unlabelled look-alikes that a detector must learn to ignore: oil stains, repaired patches, manhole
// covers and straight tar seams. Like roadside objects they are anchored to distances along the road.
import type { DamagePlacement, Surface } from './damage.js';
import { bandCoverage, smoothstep } from './frame.js';
import { forPixels } from './ground.js';
import { ValueNoise } from './noise.js';
import { hashInts, Rng } from './random.js';
import type { RoadLayout } from './road.js';
import { roadEdges } from './road.js';

const SEGMENT_M = 10;

export type DistractorKind = 'oil' | 'patch' | 'manhole' | 'seam';

export interface Distractor {
  kind: DistractorKind;
  xM: number;
  /** Relative to the camera. */
  zM: number;
  lengthM: number;
  widthM: number;
  angleDeg: number;
  seed: number;
}

/** Distractors on the road from 5 m behind to 90 m ahead, none overlapping labelled damage. */
export function roadDistractors(seed: number, layout: RoadLayout, density: number, roadOffsetM: number, avoid: readonly DamagePlacement[]): Distractor[] {
  if (density <= 0) return [];
  const [left, right] = roadEdges(layout);
  const w = layout.laneWidthM;
  const out: Distractor[] = [];
  for (let k = Math.floor((roadOffsetM - 5) / SEGMENT_M); k <= Math.floor((roadOffsetM + 90) / SEGMENT_M); k++) {
    const rng = new Rng(hashInts(seed, k, 0xd15));
    const count = rng.next() < density ? (rng.next() < density * 0.4 ? 2 : 1) : 0;
    for (let n = 0; n < count; n++) {
      const kind = rng.weighted<DistractorKind>([['oil', 0.3], ['patch', 0.3], ['manhole', 0.15], ['seam', 0.25]]);
      const lane = rng.chance(0.75) || layout.lanesLeft === 0 ? 0 : -w;
      const zM = (k + rng.next()) * SEGMENT_M - roadOffsetM;
      const d = shapeOf(kind, rng, lane, w, left, right, zM);
      if (avoid.every((p) => Math.hypot(p.xM - d.xM, p.zM - d.zM) > Math.hypot(p.lengthM, p.widthM) / 2 + Math.hypot(d.lengthM, d.widthM) / 2 + 0.3)) out.push(d);
    }
  }
  return out;
}

function shapeOf(kind: DistractorKind, rng: Rng, lane: number, w: number, left: number, right: number, zM: number): Distractor {
  const seed = rng.int(0, 2 ** 31 - 1);
  switch (kind) {
    case 'oil':
      return { kind, xM: lane + rng.normal(0, 0.3), zM, lengthM: rng.range(0.4, 1.8), widthM: rng.range(0.3, 0.8), angleDeg: rng.normal(0, 15), seed };
    case 'patch':
      return { kind, xM: lane + rng.normal(0, 0.7), zM, lengthM: rng.range(1, 4), widthM: rng.range(0.8, 2.5), angleDeg: rng.normal(0, 4), seed };
    case 'manhole': {
      const size = rng.range(0.6, 0.8);
      return { kind, xM: lane + rng.normal(0, 0.6), zM, lengthM: size, widthM: size, angleDeg: 0, seed };
    }
    case 'seam':
      return rng.chance(0.6)
        ? { kind, xM: lane + rng.pick([-w / 2, 0, w / 2]) + rng.normal(0, 0.2), zM, lengthM: rng.range(4, 20), widthM: rng.range(0.02, 0.06), angleDeg: rng.normal(0, 1), seed }
        : { kind, xM: (left + right) / 2, zM, lengthM: right - left, widthM: rng.range(0.02, 0.06), angleDeg: 90, seed };
  }
}

export function drawDistractor(surface: Surface, d: Distractor): void {
  const { raster, frame } = surface;
  const ang = (d.angleDeg * Math.PI) / 180;
  const s = Math.sin(ang);
  const c = Math.cos(ang);
  const ha = d.lengthM / 2;
  const hb = d.widthM / 2;
  const rect = raster.boundsOfBox(d.xM, d.zM, ha + 0.2, hb + 0.2, ang, 2);
  if (!rect) return;
  const rng = new Rng(d.seed);
  const noise = new ValueNoise(d.seed, 5);
  const strength = rng.range(0.15, 0.45);
  const tone = rng.chance(0.6) ? rng.range(0.65, 0.9) : rng.range(1.1, 1.3);
  const sealed = rng.chance(0.5);
  const iron = rng.range(0.2, 0.32);
  const q = { x: 0, z: 0 };
  forPixels(raster, rect, q, (idx, fp) => {
    const dx = q.x - d.xM;
    const dz = q.z - d.zM;
    const a = dx * s + dz * c;
    const b = dx * c - dz * s;
    let k = 1;
    let tint = 0;
    switch (d.kind) {
      case 'oil': {
        const rho = Math.hypot(a / ha, b / hb) + 0.5 * (noise.at(a * 3, b * 3) - 0.5);
        k = 1 - strength * smoothstep(1, 0.2, rho);
        tint = (1 - k) * 0.1;
        break;
      }
      case 'patch': {
        const inside = bandCoverage(a, d.lengthM, fp) * bandCoverage(b, d.widthM, fp);
        const edge = sealed ? Math.max(bandCoverage(Math.abs(a) - ha, 0.05, fp), bandCoverage(Math.abs(b) - hb, 0.05, fp)) : 0;
        k = (1 + inside * (tone * (0.95 + 0.1 * noise.at(q.x * 3, q.z * 3)) - 1)) * (1 - 0.5 * edge);
        break;
      }
      case 'manhole': {
        const r = Math.hypot(a, b);
        const R = ha;
        const gap = bandCoverage(r - R, 0.02, fp);
        const lid = smoothstep(R + fp / 2, R - fp / 2, r);
        const pattern = fp < 0.03 ? 0.1 * Math.sign(Math.sin(a * 40) * Math.sin(b * 40)) : 0;
        const base = frame.g[idx]! || 0.3;
        k = (1 - lid + (lid * (iron * (1 + pattern) + 0.04 * Math.sin(r * 30))) / base) * (1 - 0.6 * gap);
        tint = lid * 0.03;
        break;
      }
      case 'seam':
        k = 1 - 0.5 * bandCoverage(b, d.widthM, fp * 1.2) * bandCoverage(a, d.lengthM, fp);
        break;
    }
    frame.r[idx] = frame.r[idx]! * k * (1 + tint);
    frame.g[idx] = frame.g[idx]! * k;
    frame.b[idx] = frame.b[idx]! * k * (1 - tint);
  });
}
