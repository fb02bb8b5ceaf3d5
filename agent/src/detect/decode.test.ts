import { describe, expect, it } from 'vitest';
import { classThresholds, decodeOutput, detectLayout } from './decode.js';
import { ModelError } from './errors.js';

/** Builds a YOLOv8 [1, 4+nc, N] tensor from per-box rows [cx, cy, w, h, ...scores]. */
function v8Tensor(rows: number[][]): Float32Array {
  const n = rows.length;
  const channels = rows[0]!.length;
  const out = new Float32Array(channels * n);
  rows.forEach((row, i) => row.forEach((v, c) => (out[c * n + i] = v)));
  return out;
}

describe('detectLayout', () => {
  it('tells the COCO shapes apart by shape alone', () => {
    expect(detectLayout([1, 84, 8400])).toEqual({ layout: 'yolov8', numClasses: 80, numBoxes: 8400 });
    expect(detectLayout([1, 25200, 85])).toEqual({ layout: 'yolov5', numClasses: 80, numBoxes: 25200 });
  });

  it('uses the metadata class count', () => {
    expect(detectLayout([1, 8, 2100], { numClasses: 4 })).toEqual({ layout: 'yolov8', numClasses: 4, numBoxes: 2100 });
    expect(detectLayout([1, 6300, 9], { numClasses: 4 })).toEqual({ layout: 'yolov5', numClasses: 4, numBoxes: 6300 });
    // Tiny N: shape alone would guess wrong; the class count settles it.
    expect(detectLayout([1, 6, 9], { numClasses: 4 })).toMatchObject({ layout: 'yolov5', numBoxes: 6 });
  });

  it('uses the ultralytics head hint when both layouts fit', () => {
    // 4+nc = 8 and 5+nc = 9 with nc = 4 → [1, 8, 9] fits both
    expect(detectLayout([1, 8, 9], { numClasses: 4, ultralyticsHead: true }).layout).toBe('yolov8');
    expect(detectLayout([1, 8, 9], { numClasses: 4, ultralyticsHead: false }).layout).toBe('yolov5');
    expect(() => detectLayout([1, 8, 9], { numClasses: 4 })).toThrow(/fits both/);
  });

  it('refuses a shape that matches neither, naming it and the fix', () => {
    expect(() => detectLayout([1, 7, 7])).toThrow(ModelError);
    expect(() => detectLayout([1, 7, 7])).toThrow(/^model output \[1,7,7\] matches neither YOLOv5 \[1,N,5\+nc\] nor YOLOv8 \[1,4\+nc,N\] — export with ultralytics/);
    expect(() => detectLayout([1, 300, 6], { numClasses: 80 })).toThrow(/for 80 classes \(YOLOv8 would be \[1,84,N\], YOLOv5 \[1,N,85\]\)/);
    expect(() => detectLayout([1, 1000])).toThrow(/matches neither/);
    expect(() => detectLayout([2, 84, 8400])).toThrow(/matches neither/);
  });
});

describe('classThresholds', () => {
  it('applies per-class overrides', () => {
    expect(Array.from(classThresholds(['D00', 'D10', 'D20', 'D40'], 0.25, { D40: 0.5 }))).toEqual([0.25, 0.25, 0.25, 0.5]);
  });
  it('refuses an override for a class the model lacks', () => {
    expect(() => classThresholds(['D00', 'D40'], 0.25, { pothole: 0.5 })).toThrow(/"pothole", which the model does not have \(classes: D00, D40\)/);
  });
});

describe('decode YOLOv8 [1, 4+nc, N]', () => {
  const rows = [
    [160, 160, 40, 20, 0.01, 0.02, 0.03, 0.9],
    [50, 60, 10, 30, 0.3, 0.02, 0.03, 0.1],
    [10, 10, 4, 4, 0.2, 0.2, 0.2, 0.2],
    [250, 250, 20, 20, 0.01, 0.45, 0.03, 0.01],
  ];
  const info = detectLayout([1, 8, 4], { numClasses: 4 });

  it('gives corner boxes, best class and its score (hand-computed)', () => {
    const out = decodeOutput(v8Tensor(rows), info, [0.25, 0.25, 0.25, 0.25]);
    expect(out).toHaveLength(3);
    expect(out[0]).toEqual({ box: [140, 150, 180, 170], classIndex: 3, confidence: expect.closeTo(0.9, 6) });
    expect(out[1]).toEqual({ box: [45, 45, 55, 75], classIndex: 0, confidence: expect.closeTo(0.3, 6) });
    expect(out[2]).toEqual({ box: [240, 240, 260, 260], classIndex: 1, confidence: expect.closeTo(0.45, 6) });
  });

  it('applies each class its own threshold', () => {
    const out = decodeOutput(v8Tensor(rows), info, [0.35, 0.5, 0.25, 0.25]);
    expect(out.map((c) => c.classIndex)).toEqual([3]); // D00 0.3 < 0.35, D10 0.45 < 0.5
  });

  it('checks the tensor size', () => {
    expect(() => decodeOutput(new Float32Array(7), info, [0.25, 0.25, 0.25, 0.25])).toThrow(/expected 32/);
  });
});

describe('decode YOLOv5 [1, N, 5+nc]', () => {
  const data = Float32Array.from([
    // cx, cy, w, h, obj, D00, D10, D20, D40
    ...[160, 160, 40, 20, 0.95, 0.05, 0.05, 0.05, 0.9], // D40 0.855
    ...[50, 60, 10, 30, 0.5, 0.8, 0.1, 0.1, 0.1], // D00 0.40
    ...[10, 10, 4, 4, 0.2, 0.99, 0.99, 0.99, 0.99], // obj too low
    ...[250, 250, 20, 20, 0.9, 0.05, 0.25, 0.05, 0.01], // D10 0.225 < 0.25
  ]);
  const info = detectLayout([1, 4, 9], { numClasses: 4 });

  it('multiplies objectness by the class score (hand-computed)', () => {
    expect(info.layout).toBe('yolov5');
    const out = decodeOutput(data, info, [0.25, 0.25, 0.25, 0.25]);
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({ box: [140, 150, 180, 170], classIndex: 3, confidence: expect.closeTo(0.855, 5) });
    expect(out[1]).toEqual({ box: [45, 45, 55, 75], classIndex: 0, confidence: expect.closeTo(0.4, 5) });
  });

  it('applies per-class thresholds to obj × cls', () => {
    const out = decodeOutput(data, info, [0.25, 0.2, 0.25, 0.9]);
    expect(out.map((c) => [c.classIndex, Number(c.confidence.toFixed(3))])).toEqual([
      [0, 0.4],
      [1, 0.225],
    ]);
  });
});
