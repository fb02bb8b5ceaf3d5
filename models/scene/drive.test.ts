// Frames of one drive share a world: roadside objects and distractors are anchored to road distance.
import { describe, expect, it } from 'vitest';
import { roadDistractors } from './distractors.js';
import { Rng } from './random.js';
import { randomRoadLayout } from './road.js';
import { renderScene } from './render.js';
import { roadsideCasters } from './roadside.js';

describe('drive coherence', () => {
  it('moves roadside trees and poles toward the camera by the distance travelled', () => {
    const a = roadsideCasters(11, [-5, 2], 0.8, 100);
    const b = roadsideCasters(11, [-5, 2], 0.8, 112.5);
    expect(a.length).toBeGreaterThan(5);
    const key = (c: (typeof a)[number], offset: number) => `${c.kind} ${c.xM.toFixed(6)} ${(c.zM + offset).toFixed(6)}`;
    const inA = new Set(a.map((c) => key(c, 100)));
    // Everything b sees within a's stretch of road is the same object a saw.
    const shared = b.filter((c) => c.zM + 112.5 < 100 + 150 && c.zM + 112.5 > 100 - 30);
    expect(shared.length).toBeGreaterThan(3);
    for (const c of shared) expect(inA.has(key(c, 112.5))).toBe(true);
  });

  it('keeps distractors at fixed road positions', () => {
    const layout = randomRoadLayout(new Rng(3));
    const a = roadDistractors(4, layout, 0.9, 0, []);
    const b = roadDistractors(4, layout, 0.9, 20, []);
    const moved = b.map((d) => ({ ...d, zM: d.zM + 20 })).filter((d) => d.zM < 80);
    expect(moved.length).toBeGreaterThan(0);
    for (const d of moved) expect(a.some((o) => o.seed === d.seed && Math.abs(o.zM - d.zM) < 1e-9 && o.xM === d.xM)).toBe(true);
  });

  it('labels a defect in consecutive frames as the vehicle approaches it', () => {
    const defect = { cls: 'D40' as const, xM: 0.3, lengthM: 0.8, widthM: 0.7, angleDeg: 10, seed: 99 };
    const boxes = [0, 2, 4].map((offset) => {
      const scene = renderScene({ width: 320, height: 180, seed: 8, roadOffsetM: offset, damage: [{ ...defect, zM: 14 - offset }], conditions: { motionBlurPx: 0 } });
      expect(scene.labels).toHaveLength(1);
      return scene.labels[0]!.box;
    });
    // Closer each frame: lower in the image and wider.
    expect(boxes[1]![3]).toBeGreaterThan(boxes[0]![3]);
    expect(boxes[2]![3]).toBeGreaterThan(boxes[1]![3]);
    expect(boxes[2]![2] - boxes[2]![0]).toBeGreaterThan(boxes[0]![2] - boxes[0]![0]);
  });
});
