// Trees and poles beside the road, anchored to distances along the road (so a drive passes them), and
// the shadows they cast across it.
import type { SceneConditions } from './conditions.js';
import { clamp01, smoothstep, type Frame } from './frame.js';
import { forPixels, type GroundRaster } from './ground.js';
import { ValueNoise } from './noise.js';
import { deriveSeed, hashInts, Rng } from './random.js';

const SEGMENT_M = 10;

export interface Caster {
  kind: 'tree' | 'pole';
  /** Road coordinates of the base; zM is relative to the camera. */
  xM: number;
  zM: number;
  /** Pole height, or canopy centre height for trees. */
  heightM: number;
  /** Pole radius, or canopy radius. */
  radiusM: number;
  seed: number;
}

/**
 * Casters for the stretch of road from 40 m behind to 160 m ahead. Each 10 m segment of road decides
 * its own casters from (seed, segment index), independent of where the camera is.
 */
export function roadsideCasters(seed: number, edges: [number, number], density: number, roadOffsetM: number): Caster[] {
  if (density <= 0) return [];
  const casters: Caster[] = [];
  const first = Math.floor((roadOffsetM - 40) / SEGMENT_M);
  const last = Math.floor((roadOffsetM + 160) / SEGMENT_M);
  for (let k = first; k <= last; k++) {
    const rng = new Rng(hashInts(seed, k, 0x7ee));
    const count = rng.next() < density ? 1 + (rng.next() < density * 0.3 ? 1 : 0) : 0;
    for (let n = 0; n < count; n++) {
      const left = rng.chance(0.5);
      const tree = rng.chance(0.75);
      const zM = (k + rng.next()) * SEGMENT_M - roadOffsetM;
      const radiusM = tree ? rng.range(1.5, 3.5) : rng.range(0.07, 0.14);
      const gap = tree ? radiusM + rng.range(0.5, 4) : rng.range(0.4, 1.8);
      casters.push({
        kind: tree ? 'tree' : 'pole',
        xM: left ? edges[0] - gap : edges[1] + gap,
        zM,
        heightM: tree ? rng.range(4, 9) : rng.range(6, 10),
        radiusM,
        seed: rng.int(0, 2 ** 31),
      });
    }
  }
  return casters;
}

/** Per-pixel shadow amount (0 lit – 1 full shadow) on the ground. */
export function shadowMask(raster: GroundRaster, casters: Caster[], conditions: SceneConditions, seed: number, roadOffsetM: number): Float32Array {
  const mask = new Float32Array(raster.width * raster.height);
  if (conditions.shadowStrength <= 0.01 || casters.length === 0) return mask;
  const elevation = (Math.max(8, conditions.sunElevationDeg) * Math.PI) / 180;
  const azimuth = (conditions.sunAzimuthDeg * Math.PI) / 180;
  // Shadows point away from the sun; their length is height / tan(elevation).
  const sx = -Math.sin(azimuth);
  const sz = -Math.cos(azimuth);
  const reach = 1 / Math.tan(elevation);
  const stretch = 1 / Math.sin(elevation);
  const leaves = new ValueNoise(deriveSeed(seed, 'leaves'), 6);
  const p = { x: 0, z: 0 };
  for (const caster of casters) {
    const len = caster.heightM * reach;
    const cx = caster.xM + sx * len;
    const cz = caster.zM + sz * len;
    const rng = new Rng(caster.seed);
    if (caster.kind === 'pole') {
      const halfW = caster.radiusM;
      const rect = raster.boundsOfBox(caster.xM + (sx * len) / 2, caster.zM + (sz * len) / 2, len / 2, halfW + 0.2, Math.atan2(sx, sz));
      if (!rect) continue;
      forPixels(raster, rect, p, (idx, fp) => {
        const rx = p.x - caster.xM;
        const rz = p.z - caster.zM;
        const along = rx * sx + rz * sz;
        const across = Math.abs(rx * sz - rz * sx);
        if (along < 0 || along > len) return;
        const soft = 0.03 + along * 0.01 + fp;
        const m = smoothstep(halfW + soft, halfW - soft, across) * (1 - smoothstep(len - 0.3, len, along));
        if (m > mask[idx]!) mask[idx] = m;
      });
      continue;
    }
    const blobs = Array.from({ length: rng.int(3, 6) }, () => ({
      a: rng.normal(0, caster.radiusM * 0.35),
      b: rng.normal(0, caster.radiusM * 0.35),
      r: caster.radiusM * rng.range(0.5, 0.8),
    }));
    const extent = caster.radiusM * 1.6 * stretch;
    const rect = raster.boundsOfBox(cx, cz, extent, caster.radiusM * 1.6, Math.atan2(sx, sz));
    if (!rect) continue;
    const holes = rng.range(0.45, 0.7);
    forPixels(raster, rect, p, (idx, fp) => {
      const rx = p.x - cx;
      const rz = p.z - cz;
      const along = (rx * sx + rz * sz) / stretch;
      const across = rx * sz - rz * sx;
      let sd = Infinity;
      for (const blob of blobs) {
        const d = Math.hypot(along - blob.a, across - blob.b) - blob.r;
        if (d < sd) sd = d;
      }
      const soft = 0.1 + fp;
      let m = smoothstep(soft, -soft, sd);
      if (m <= 0) return;
      // Gaps between leaves let sun through; far away they average into partial shade.
      const leaf = leaves.at((p.x + caster.seed % 97) * 2.2, (p.z + roadOffsetM) * 2.2);
      const detail = clamp01(1 - fp / 0.4);
      m *= 1 - detail * smoothstep(holes - 0.1, holes + 0.1, leaf) - (1 - detail) * 0.25;
      if (m > mask[idx]!) mask[idx] = m;
    });
  }
  return mask;
}

/** Draws tree trunks and canopies and poles over the scene (after lighting), farthest first. */
export function paintRoadside(frame: Frame, raster: GroundRaster, casters: Caster[], conditions: SceneConditions, occluded: Uint8Array, seed: number): void {
  const foliage = new ValueNoise(deriveSeed(seed, 'foliage'), 6);
  const lit = conditions.weather === 'sun' ? 1 : 0.85;
  const sorted = [...casters].filter((c) => c.zM > 1).sort((a, b) => b.zM - a.zM);
  for (const caster of sorted) {
    const trunkR = caster.kind === 'pole' ? caster.radiusM : caster.radiusM * 0.08;
    const trunkTop = caster.kind === 'pole' ? caster.heightM : caster.heightM - caster.radiusM * 0.5;
    const colour = caster.kind === 'pole' ? [0.36, 0.35, 0.34] : [0.25, 0.2, 0.16];
    drawUpright(frame, raster, caster, trunkR, trunkTop, occluded, (idx, side) => {
      const s = lit * (0.75 + 0.35 * side);
      frame.set(idx, colour[0]! * s, colour[1]! * s, colour[2]! * s);
    });
    if (caster.kind === 'tree') drawCanopy(frame, raster, caster, foliage, lit, occluded);
  }
}

function drawUpright(frame: Frame, raster: GroundRaster, caster: Caster, radius: number, top: number, occluded: Uint8Array, paint: (idx: number, side: number) => void): void {
  const base = raster.project(caster.xM, caster.zM, 0);
  const head = raster.project(caster.xM, caster.zM, top);
  if (!base || !head) return;
  const v0 = Math.max(0, Math.floor(head.v));
  const v1 = Math.min(frame.height, Math.ceil(base.v));
  for (let v = v0; v < v1; v++) {
    const t = (v + 0.5 - head.v) / Math.max(1e-6, base.v - head.v);
    const u = head.u + (base.u - head.u) * t;
    const halfPx = Math.max(0.5, (raster.camera.focalPx * radius) / (head.depth + (base.depth - head.depth) * t));
    const i0 = Math.max(0, Math.floor(u - halfPx));
    const i1 = Math.min(frame.width, Math.ceil(u + halfPx));
    for (let i = i0; i < i1; i++) {
      const idx = v * frame.width + i;
      if (frame.depth[idx]! < caster.zM) continue;
      paint(idx, (i + 0.5 - u) / halfPx);
      frame.depth[idx] = caster.zM;
      occluded[idx] = 1;
    }
  }
}

function drawCanopy(frame: Frame, raster: GroundRaster, caster: Caster, foliage: ValueNoise, lit: number, occluded: Uint8Array): void {
  const centre = raster.project(caster.xM, caster.zM, caster.heightM);
  if (!centre) return;
  const rPx = (raster.camera.focalPx * caster.radiusM) / centre.depth;
  const v0 = Math.max(0, Math.floor(centre.v - rPx * 1.2));
  const v1 = Math.min(frame.height, Math.ceil(centre.v + rPx * 1.2));
  const i0 = Math.max(0, Math.floor(centre.u - rPx * 1.2));
  const i1 = Math.min(frame.width, Math.ceil(centre.u + rPx * 1.2));
  const off = caster.seed % 1000;
  for (let v = v0; v < v1; v++) {
    for (let i = i0; i < i1; i++) {
      const du = (i + 0.5 - centre.u) / rPx;
      const dv = (v + 0.5 - centre.v) / rPx;
      const ang = Math.atan2(dv, du);
      const edge = 0.85 + 0.3 * foliage.at(off + Math.cos(ang) * 2 + 5, Math.sin(ang) * 2 + 5);
      if (du * du + dv * dv > edge * edge) continue;
      const idx = v * frame.width + i;
      if (frame.depth[idx]! < caster.zM) continue;
      const leaf = foliage.fbm(off + du * caster.radiusM, dv * caster.radiusM, 0.6, 3, caster.radiusM / rPx) * 0.5 + 0.5;
      const s = lit * (0.45 + 0.7 * leaf) * (1 - 0.35 * dv);
      frame.set(idx, 0.17 * s, 0.25 * s, 0.1 * s);
      frame.depth[idx] = caster.zM;
      occluded[idx] = 1;
    }
  }
}
