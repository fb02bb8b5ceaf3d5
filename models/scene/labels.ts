// Label boxes: the projected outline of each defect, clipped to the image, dropped when the defect is
// not really visible (too small, mostly outside the image, hidden behind roadside objects, or too faint
// to see at its distance).
import { DAMAGE_CLASSES, type DamageClass, type DamagePlacement, type OutlinePath } from './damage.js';
import type { GroundRaster } from './ground.js';

export interface LabelledBox {
  cls: DamageClass;
  classIndex: number;
  /** x1, y1, x2, y2 in image pixels. */
  box: [number, number, number, number];
  placement: DamagePlacement;
}

export interface LabelRules {
  /** The longer box side must reach this many pixels. */
  minSidePx: number;
  /** Shorter sides are padded (about the centre) to at least this. */
  minThinPx: number;
  /** Share of the outline points that must project inside the image (long cracks may show less). */
  minInsideFraction: number;
  /** Drop when more than this fraction of the box is covered by roadside objects. */
  maxOccludedFraction: number;
  /** Summed relative change the defect made beyond a 3% floor, in pixels at 640 px width. */
  minInk: number;
  maxDistanceM: Readonly<Record<DamageClass, number>>;
}

export const DEFAULT_LABEL_RULES: Readonly<LabelRules> = Object.freeze({
  minSidePx: 8,
  minThinPx: 3,
  minInsideFraction: 0.45,
  maxOccludedFraction: 0.5,
  minInk: 6,
  maxDistanceM: { D00: 25, D10: 20, D20: 28, D40: 30 },
});

export interface Visibility {
  /** Summed |relative change| of the defect's pixels. */
  ink: number;
  occluded: Uint8Array;
}

export function labelFor(raster: GroundRaster, placement: DamagePlacement, outline: OutlinePath[], seen: Visibility, rules: LabelRules = DEFAULT_LABEL_RULES): LabelledBox | null {
  if (placement.zM > rules.maxDistanceM[placement.cls]) return null;
  const { width, height } = raster;
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  const add = (x: number, z: number) => {
    const p = raster.project(x, z);
    if (!p) return;
    x1 = Math.min(x1, p.u);
    y1 = Math.min(y1, p.v);
    x2 = Math.max(x2, p.u);
    y2 = Math.max(y2, p.v);
  };
  // Cut each path where it passes out of view toward the camera, so the parts the image cannot show
  // do not widen the box.
  const near = raster.nearZ;
  let inside = 0;
  let total = 0;
  for (const { points, closed } of outline) {
    const n = points.length / 2;
    for (let k = 0; k < n; k++) {
      const x = points[2 * k]!;
      const z = points[2 * k + 1]!;
      total++;
      if (z >= near) {
        add(x, z);
        const p = raster.project(x, z);
        if (p && p.u >= 0 && p.u <= width && p.v >= 0 && p.v <= height) inside++;
      }
      if (k + 1 === n && !closed) break;
      const nx = points[(2 * k + 2) % (2 * n)]!;
      const nz = points[(2 * k + 3) % (2 * n)]!;
      if (z < near !== nz < near) {
        const t = (near - z) / (nz - z);
        add(x + (nx - x) * t, near);
      }
    }
  }
  const cx1 = Math.max(0, x1);
  const cy1 = Math.max(0, y1);
  const cx2 = Math.min(width, x2);
  const cy2 = Math.min(height, y2);
  if (!(cx2 > cx1) || !(cy2 >= cy1)) return null;
  const scale = width / 640;
  const longSide = Math.max(cx2 - cx1, cy2 - cy1);
  // Share of the outline inside the image. A long crack running out of the image is still plainly
  // visible; only a sliver of a small defect is not.
  const insideFraction = inside / Math.max(1, total);
  if (insideFraction < rules.minInsideFraction && (insideFraction < rules.minInsideFraction / 2 || longSide < 40 * scale)) return null;
  if (longSide < rules.minSidePx) return null;
  if (seen.ink / (scale * scale) < rules.minInk) return null;
  const box = pad([cx1, cy1, cx2, cy2], rules.minThinPx, width, height);
  if (occludedFraction(seen.occluded, width, box) > rules.maxOccludedFraction) return null;
  return { cls: placement.cls, classIndex: DAMAGE_CLASSES.indexOf(placement.cls), box: box.map(round2) as LabelledBox['box'], placement };
}

function pad(box: [number, number, number, number], min: number, width: number, height: number): [number, number, number, number] {
  const [x1, y1, x2, y2] = box;
  const grow = (lo: number, hi: number, limit: number): [number, number] => {
    if (hi - lo >= min) return [lo, hi];
    const c = Math.min(limit - min / 2, Math.max(min / 2, (lo + hi) / 2));
    return [c - min / 2, c + min / 2];
  };
  const [a, c] = grow(x1, x2, width);
  const [b, d] = grow(y1, y2, height);
  return [a, b, c, d];
}

function occludedFraction(occluded: Uint8Array, width: number, box: [number, number, number, number]): number {
  const u0 = Math.floor(box[0]);
  const v0 = Math.floor(box[1]);
  const u1 = Math.ceil(box[2]);
  const v1 = Math.ceil(box[3]);
  let hidden = 0;
  for (let v = v0; v < v1; v++) for (let i = u0; i < u1; i++) hidden += occluded[v * width + i]!;
  return hidden / Math.max(1, (u1 - u0) * (v1 - v0));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
