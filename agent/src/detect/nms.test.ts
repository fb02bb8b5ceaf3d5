import { describe, expect, it } from 'vitest';
import type { Box } from './detector.js';
import { iou, nms, overlapOfSmaller } from './nms.js';

const c = (box: Box, classIndex: number, confidence: number) => ({ box, classIndex, confidence });

describe('iou', () => {
  it('is hand-computable', () => {
    expect(iou([0, 0, 10, 10], [0, 0, 10, 10])).toBe(1);
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150);
    expect(iou([0, 0, 10, 10], [10, 10, 20, 20])).toBe(0);
    expect(iou([0, 0, 0, 0], [0, 0, 0, 0])).toBe(0);
  });
});

describe('overlapOfSmaller', () => {
  it('is 1 for a box inside another and the shared share of the smaller otherwise', () => {
    expect(overlapOfSmaller([0, 0, 100, 100], [10, 10, 30, 30])).toBe(1);
    expect(overlapOfSmaller([0, 0, 10, 10], [5, 0, 25, 10])).toBeCloseTo(50 / 100);
    expect(overlapOfSmaller([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0);
    expect(overlapOfSmaller([0, 0, 0, 0], [0, 0, 10, 10])).toBe(0);
  });
});

describe('nms', () => {
  it('keeps the most confident of overlapping boxes of one class', () => {
    const kept = nms([c([0, 0, 10, 10], 0, 0.6), c([1, 0, 11, 10], 0, 0.9), c([50, 50, 60, 60], 0, 0.3)], 0.45, 100);
    expect(kept.map((k) => k.confidence)).toEqual([0.9, 0.3]);
  });

  it('never suppresses across classes', () => {
    const kept = nms([c([0, 0, 10, 10], 0, 0.9), c([0, 0, 10, 10], 3, 0.8), c([0, 0, 10, 10], 3, 0.7)], 0.45, 100);
    expect(kept.map((k) => [k.classIndex, k.confidence])).toEqual([
      [0, 0.9],
      [3, 0.8],
    ]);
  });

  it('suppresses only above the IoU threshold', () => {
    const a = c([0, 0, 10, 10], 0, 0.9);
    const b = c([5, 0, 15, 10], 0, 0.8); // IoU 1/3
    expect(nms([a, b], 0.3, 10)).toHaveLength(1);
    expect(nms([a, b], 0.34, 10)).toHaveLength(2);
  });

  it('returns at most maxDetections, best first', () => {
    const many = Array.from({ length: 50 }, (_, i) => c([i * 20, 0, i * 20 + 10, 10], 0, i / 50));
    const kept = nms(many, 0.45, 5);
    expect(kept.map((k) => k.confidence)).toEqual([49, 48, 47, 46, 45].map((i) => i / 50));
  });
});
