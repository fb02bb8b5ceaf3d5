// Road damage in the RDD2022 classes, placed in road coordinates relative to the camera.
import { drawAlligator, alligatorOutline } from './alligator.js';
import { crackOutline, drawCrack } from './cracks.js';
import type { Frame } from './frame.js';
import type { GroundRaster, PixelRect } from './ground.js';
import { drawPothole, potholeOutline } from './pothole.js';
import { deriveSeed, Rng } from './random.js';

export const DAMAGE_CLASSES = ['D00', 'D10', 'D20', 'D40'] as const;
export type DamageClass = (typeof DAMAGE_CLASSES)[number];

export const DAMAGE_NAMES: Readonly<Record<DamageClass, string>> = {
  D00: 'longitudinal crack',
  D10: 'transverse crack',
  D20: 'alligator crack',
  D40: 'pothole',
};

/**
 * One defect on the road. (xM, zM) is its centre: metres right of the lane centre and ahead of the
 * camera. lengthM runs along its axis, which is angleDeg from the driving direction toward the right
 * (a transverse crack is ~90°); widthM is its extent across that axis (for cracks, how far the crack
 * wanders sideways). seed fixes its shape, so the same defect looks the same in every frame of a drive.
 */
export interface DamagePlacement {
  cls: DamageClass;
  xM: number;
  zM: number;
  lengthM: number;
  widthM: number;
  angleDeg: number;
  seed: number;
}

/** What a drawing needs: the image being painted, its road raster, a zeroed scratch plane and the sun. */
export interface Surface {
  frame: Frame;
  raster: GroundRaster;
  /** Width × height floats, all zero between uses. */
  scratch: Float32Array;
  /** Horizontal unit vector toward the sun (road x, z) and how strong direct light is (0–1). */
  sun: { x: number; z: number; strength: number };
}

/** Random placements: 0–4 (10% none) when count is absent, classes equally likely, no overlaps. */
export function randomDamage(seed: number, count?: number): DamagePlacement[] {
  const rng = new Rng(deriveSeed(seed, 'damage'));
  const n = count ?? (rng.chance(0.1) ? 0 : rng.int(1, 4));
  const placed: DamagePlacement[] = [];
  for (let k = 0; k < n; k++) {
    const cls = rng.pick(DAMAGE_CLASSES);
    for (let attempt = 0; attempt < 30; attempt++) {
      const candidate = randomPlacement(rng, cls);
      if (placed.every((other) => apart(candidate, other))) {
        placed.push(candidate);
        break;
      }
    }
  }
  return placed;
}

export function randomPlacement(rng: Rng, cls: DamageClass): DamagePlacement {
  // Damage concentrates in the wheel paths, ~0.85 m either side of the lane centre.
  const lateral = rng.weighted<() => number>([
    [() => rng.normal(rng.chance(0.5) ? -0.85 : 0.85, 0.25), 0.6],
    [() => rng.normal(0, 0.4), 0.2],
    [() => rng.range(-4.5, -1.6), 0.2],
  ])();
  // Mostly near, where a dashcam resolves damage, with a tail out to `far`.
  const ahead = (near: number, far: number) => near + (far - near) * Math.pow(rng.next(), 1.7);
  const seed = rng.int(0, 2 ** 31 - 1);
  switch (cls) {
    case 'D00':
      return { cls, xM: lateral, zM: ahead(3, 12), lengthM: rng.range(1.5, 5), widthM: rng.range(0.12, 0.4), angleDeg: rng.normal(0, 6), seed };
    case 'D10':
      return { cls, xM: lateral * 0.6, zM: ahead(2.5, 11), lengthM: rng.range(1, 3.4), widthM: rng.range(0.1, 0.35), angleDeg: 90 + rng.normal(0, 8), seed };
    case 'D20':
      return { cls, xM: lateral, zM: ahead(3, 14), lengthM: rng.range(1, 3), widthM: rng.range(0.7, 1.8), angleDeg: rng.normal(0, 15), seed };
    case 'D40': {
      const lengthM = rng.range(0.35, 1.3);
      return { cls, xM: lateral, zM: ahead(2.2, 18), lengthM, widthM: lengthM * rng.range(0.55, 1), angleDeg: rng.range(0, 180), seed };
    }
  }
}

/** Half of the lateral (x) extent of a placement. */
export function lateralHalfExtent(p: DamagePlacement): number {
  const a = (p.angleDeg * Math.PI) / 180;
  return Math.abs(Math.sin(a)) * p.lengthM * 0.5 + Math.abs(Math.cos(a)) * p.widthM * 0.5;
}

function apart(a: DamagePlacement, b: DamagePlacement): boolean {
  const ra = Math.hypot(a.lengthM, a.widthM) / 2;
  const rb = Math.hypot(b.lengthM, b.widthM) / 2;
  return Math.hypot(a.xM - b.xM, a.zM - b.zM) > ra + rb + 0.3;
}

/** A polyline or polygon of x, z pairs in road coordinates. */
export interface OutlinePath {
  points: number[];
  closed: boolean;
}

/** Paths whose projection bounds the visible defect (crack lines; pothole and patch boundaries). */
export function damageOutline(p: DamagePlacement): OutlinePath[] {
  switch (p.cls) {
    case 'D00':
    case 'D10':
      return crackOutline(p).map((points) => ({ points, closed: false }));
    case 'D20':
      return [{ points: alligatorOutline(p), closed: true }];
    case 'D40':
      return [{ points: potholeOutline(p), closed: true }];
  }
}

/** Paints the defect into the surface albedo; returns the pixels it may have changed. */
export function drawDamage(surface: Surface, p: DamagePlacement): PixelRect | null {
  switch (p.cls) {
    case 'D00':
    case 'D10':
      return drawCrack(surface, p);
    case 'D20':
      return drawAlligator(surface, p);
    case 'D40':
      return drawPothole(surface, p);
  }
}
