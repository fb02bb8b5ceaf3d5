// The road surface: asphalt with multi-octave texture, wheel paths, lane markings, shoulders and verge.
// Everything is a function of road coordinates (x across, z + roadOffsetM along), so consecutive frames
// of a drive show the same road moving past.
import { definedOnly } from './camera.js';
import { bandCoverage, clamp01, type Frame } from './frame.js';
import type { GroundRaster } from './ground.js';
import { ValueNoise } from './noise.js';
import { deriveSeed, hash3Unit, type Rng } from './random.js';

export interface RoadLayout {
  laneWidthM: number;
  /** Lanes left of the camera's lane (oncoming or same direction). */
  lanesLeft: number;
  /** Lanes right of the camera's lane. */
  lanesRight: number;
  /** Paved strip beyond each edge line. */
  shoulderM: number;
  /** The line on the left of the camera's lane. */
  centreLine: 'dashed' | 'solid' | 'double' | 'none';
  edgeLines: boolean;
  lineWidthM: number;
  centreLineColour: 'white' | 'yellow';
  /** 0 = fresh paint, 1 = almost gone. */
  markingWear: number;
  dashM: number;
  gapM: number;
  dashPhaseM: number;
  /** 1/m, + bends right. */
  curvature: number;
  /** Asphalt, or concrete slabs with straight joints (which must not be taken for cracks). */
  surface: 'asphalt' | 'concrete';
  /** Concrete slab length between transverse joints. */
  slabM: number;
  /** Mean surface grey level (0–1). */
  asphaltTone: number;
  /** Per-channel tint of the asphalt (small multipliers around 1). */
  asphaltTint: [number, number, number];
  /** Contrast of the fine aggregate texture. */
  coarseness: number;
  /** Wheel-path darkening (+) or polish (−). */
  wheelPathContrast: number;
  /** Darkening of the oil-dripped band down each lane's centre. */
  centreStain: number;
  verge: 'grass' | 'dirt' | 'kerb';
  /** Colour of the grass or dirt beside the road. */
  vergeColour: [number, number, number];
}

export function randomRoadLayout(rng: Rng, overrides: Partial<RoadLayout> = {}): RoadLayout {
  const concrete = rng.chance(0.12);
  const tone = concrete ? rng.range(0.48, 0.62) : rng.range(0.22, 0.46);
  const warm = rng.normal(0, 0.03);
  const verge = rng.weighted<RoadLayout['verge']>([['grass', 0.6], ['dirt', 0.2], ['kerb', 0.2]]);
  const dry = rng.range(0.8, 1.15);
  const grassDry = rng.next();
  const drawn: RoadLayout = {
    laneWidthM: rng.range(2.9, 3.8),
    lanesLeft: rng.weighted([[0, 0.1], [1, 0.7], [2, 0.2]]),
    lanesRight: rng.weighted([[0, 0.8], [1, 0.2]]),
    shoulderM: rng.chance(0.6) ? rng.range(0.2, 1.6) : rng.range(0, 0.2),
    centreLine: rng.weighted([['dashed', 0.55], ['solid', 0.15], ['double', 0.1], ['none', 0.2]]),
    edgeLines: rng.chance(0.7),
    lineWidthM: rng.range(0.1, 0.18),
    centreLineColour: rng.chance(0.2) ? 'yellow' : 'white',
    markingWear: rng.chance(0.4) ? rng.range(0.4, 0.95) : rng.range(0, 0.3),
    dashM: rng.range(2, 4.5),
    gapM: rng.range(4, 10),
    dashPhaseM: rng.range(0, 20),
    curvature: rng.chance(0.4) ? rng.normal(0, 0.003) : 0,
    surface: concrete ? 'concrete' : 'asphalt',
    slabM: rng.range(4, 6),
    asphaltTone: tone,
    asphaltTint: [1 + warm, 1, 1 - warm * 1.2],
    coarseness: concrete ? rng.range(0.03, 0.06) : rng.range(0.05, 0.14),
    wheelPathContrast: rng.range(-0.06, 0.1),
    centreStain: rng.chance(0.5) ? rng.range(0.02, 0.1) : 0,
    verge,
    vergeColour: verge === 'dirt' ? [0.44 * dry, 0.38 * dry, 0.29 * dry] : [0.2 + 0.2 * grassDry, 0.33 + 0.05 * grassDry, 0.13 + 0.08 * grassDry],
  };
  return { ...drawn, ...definedOnly(overrides) };
}

interface Line {
  x: number;
  dashed: boolean;
  yellow: boolean;
}

/** Painted lines across the road, in road coordinates. */
export function roadLines(layout: RoadLayout): Line[] {
  const w = layout.laneWidthM;
  const lines: Line[] = [];
  const yellow = layout.centreLineColour === 'yellow';
  if (layout.lanesLeft > 0) {
    if (layout.centreLine === 'double') lines.push({ x: -w / 2 - 0.12, dashed: false, yellow }, { x: -w / 2 + 0.12, dashed: false, yellow });
    else if (layout.centreLine !== 'none') lines.push({ x: -w / 2, dashed: layout.centreLine === 'dashed', yellow });
  }
  for (let k = 1; k < layout.lanesLeft; k++) lines.push({ x: -w / 2 - k * w, dashed: true, yellow: false });
  for (let k = 0; k < layout.lanesRight; k++) lines.push({ x: w / 2 + k * w, dashed: true, yellow: false });
  if (layout.edgeLines) {
    lines.push({ x: -w / 2 - layout.lanesLeft * w, dashed: false, yellow: false });
    lines.push({ x: w / 2 + layout.lanesRight * w, dashed: false, yellow: false });
  }
  return lines;
}

/** Left and right edges of the paved surface. */
export function roadEdges(layout: RoadLayout): [number, number] {
  const w = layout.laneWidthM;
  return [-w / 2 - layout.lanesLeft * w - layout.shoulderM, w / 2 + layout.lanesRight * w + layout.shoulderM];
}

const SIDEWALK_M = 2.2;

/** Beside the pavement: gravel then grass or dirt, or a kerb and sidewalk then grass. */
function paintVerge(frame: Frame, idx: number, layout: RoadLayout, out: number, zt: number, large: number, tex: number, fp: number): void {
  const [vr, vg, vb] = layout.vergeColour;
  const k = 1 + 0.25 * large + 0.3 * tex;
  if (layout.verge === 'kerb' && out < 0.2 + SIDEWALK_M) {
    if (out < 0.2) return frame.set(idx, 0.62 * k, 0.61 * k, 0.59 * k);
    const joint = bandCoverage(((zt % 1.2) + 1.2) % 1.2 - 0.6, 1.19, fp);
    const slab = (0.5 + 0.08 * tex) * (1 - 0.3 * (1 - joint));
    return frame.set(idx, slab * 1.01, slab, slab * 0.97);
  }
  const gravel = layout.verge === 'kerb' ? 0 : clamp01(1 - out / 0.35);
  const gr = 0.4 + 0.12 * tex;
  frame.set(idx, (vr * (1 - gravel) + gr * 1.02 * gravel) * k, (vg * (1 - gravel) + gr * gravel) * k, (vb * (1 - gravel) + gr * 0.95 * gravel) * k);
}

/** Paints albedo and distance for every ground pixel. */
export function paintGround(frame: Frame, raster: GroundRaster, layout: RoadLayout, seed: number, roadOffsetM: number): void {
  const coarse = new ValueNoise(deriveSeed(seed, 'asphalt-coarse'));
  const fine = new ValueNoise(deriveSeed(seed, 'asphalt-fine'));
  const wearNoise = new ValueNoise(deriveSeed(seed, 'marking-wear'), 7);
  const grainSeed = deriveSeed(seed, 'grain');
  const concrete = layout.surface === 'concrete';
  const lines = roadLines(layout);
  const [leftEdge, rightEdge] = roadEdges(layout);
  const w = layout.laneWidthM;
  const lineW = layout.lineWidthM;
  const period = layout.dashM + layout.gapM;
  const [tr, tg, tb] = layout.asphaltTint;
  const { width } = frame;
  const c = raster.curvature;
  // The metre-scale tone variation is smooth across a few pixels: sample it sparsely and interpolate.
  const STEP = 8;
  const largeRow = new Float32Array(Math.ceil(width / STEP) + 2);

  for (let v = raster.firstRow; v < raster.height; v++) {
    const fl = raster.footLat[v]!;
    const fL = raster.footLong[v]!;
    const fp = Math.sqrt(fl * fL);
    const grainFade = clamp01((0.014 - fp) / 0.007);
    const x0 = raster.x0[v]!;
    const dx = raster.dx[v]!;
    const z0 = raster.z0[v]!;
    const dz = raster.dz[v]!;
    for (let k = 0; k < largeRow.length; k++) {
      const z = z0 + k * STEP * dz;
      largeRow[k] = coarse.fbm(x0 + k * STEP * dx - 0.5 * c * z * z, z + roadOffsetM, 7, 3, fp);
    }
    for (let i = 0, idx = v * width; i < width; i++, idx++) {
      const z = z0 + i * dz;
      const x = x0 + i * dx - 0.5 * c * z * z;
      const zt = z + roadOffsetM;
      frame.depth[idx] = z;

      const k = (i / STEP) | 0;
      const t = i / STEP - k;
      const large = largeRow[k]! + (largeRow[k + 1]! - largeRow[k]!) * t;
      // The asphalt edge frays by a few centimetres.
      const nearEdge = layout.verge !== 'kerb' && (x < leftEdge + 0.15 || x > rightEdge - 0.15);
      const fray = nearEdge ? (coarse.at(x * 0.7 + 100, zt * 3) - 0.5) * 0.2 : 0;
      if (x < leftEdge + fray || x > rightEdge + fray) {
        const out = x < leftEdge + fray ? leftEdge + fray - x : x - rightEdge - fray;
        paintVerge(frame, idx, layout, out, zt, large, fine.fbm(x + 50, zt, 0.6, 4, fp), fp);
        continue;
      }

      // Gentle mottling at ~30 cm, then aggregate grain at 1–2 cm that only shows up close.
      let tone = layout.asphaltTone * (1 + 0.08 * large + 0.1 * fine.fbm(x, zt, 0.3, 2, fp) + layout.coarseness * 1.6 * fine.fbm(x + 17, zt, 0.024, 2, fp));
      if (grainFade > 0) tone *= 1 + grainFade * layout.coarseness * 2 * (hash3Unit(Math.floor(x * 140), Math.floor(zt * 140), grainSeed) - 0.5);
      // Wheel paths sit ~0.85 m either side of each lane's centre.
      const inLane = x - w * Math.round(x / w);
      const path = Math.abs(Math.abs(inLane) - 0.85);
      if (path < 0.45) {
        const t = 1 - (path * path) / 0.2025;
        tone *= 1 - layout.wheelPathContrast * t * t;
      }
      if (inLane < 0.45 && inLane > -0.45) tone *= 1 - layout.centreStain * (1 - (inLane * inLane) / 0.2025) * (0.5 + large);
      if (concrete) {
        // Sawn joints: across the road every slab, and along each lane boundary.
        const phase = (((zt % layout.slabM) + layout.slabM) % layout.slabM) - layout.slabM / 2;
        const across = bandCoverage(Math.abs(phase) - layout.slabM / 2, 0.012, Math.max(fL, 1e-3));
        const along = bandCoverage(Math.abs(inLane) - w / 2, 0.012, fl);
        tone *= 1 - 0.55 * Math.max(across, along);
      }
      let r = tone * tr;
      let g = tone * tg;
      let b = tone * tb;

      for (const line of lines) {
        const d = x - line.x;
        if (d > lineW + fl || d < -lineW - fl) continue;
        let cover = bandCoverage(d, lineW, fl);
        if (line.dashed) {
          const phase = (((zt + layout.dashPhaseM) % period) + period) % period;
          cover *= bandCoverage(phase - layout.dashM / 2, layout.dashM, Math.max(fL, 1e-3));
        }
        if (cover <= 0) continue;
        const wear = wearNoise.at(x * 4, zt * 1.3) * 0.7 + wearNoise.at(x * 30, zt * 12) * 0.3;
        cover *= clamp01(1 - layout.markingWear * 1.6 * wear);
        const paint = 0.82 + 0.08 * large;
        const pr = paint;
        const pg = line.yellow ? paint * 0.78 : paint;
        const pb = line.yellow ? paint * 0.3 : paint * 0.98;
        r += (pr - r) * cover;
        g += (pg - g) * cover;
        b += (pb - b) * cover;
      }
      frame.set(idx, r, g, b);
    }
  }
}
