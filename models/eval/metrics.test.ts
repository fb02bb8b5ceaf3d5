import { describe, expect, it } from 'vitest';
import { averagePrecision, evaluateDetections, iou, type Box, type ImageResult } from './metrics.js';

const box = (x: number, y: number, w = 10, h = 10): Box => [x, y, x + w, y + h];

describe('iou', () => {
  it('is 1 for the same box, 0 apart or touching, and hand-computed for an overlap', () => {
    expect(iou(box(0, 0), box(0, 0))).toBe(1);
    expect(iou(box(0, 0), box(10, 0))).toBe(0);
    expect(iou(box(0, 0), box(50, 50))).toBe(0);
    // 10×10 boxes shifted by 5 in x: intersection 50, union 150.
    expect(iou(box(0, 0), box(5, 0))).toBeCloseTo(1 / 3, 12);
  });
});

describe('averagePrecision (all-point interpolation)', () => {
  it('is 1 for a perfect ranking and the envelope area otherwise', () => {
    expect(averagePrecision([0.5, 1], [1, 1])).toBe(1);
    // Recall reaches only 0.5: the rest of the recall axis counts 0.
    expect(averagePrecision([0.5], [1])).toBe(0.5);
    // TP FP TP: precision 1, 0.5, 2/3 at recall 0.5, 0.5, 1 → 0.5·1 + 0.5·(2/3).
    expect(averagePrecision([0.5, 0.5, 1], [1, 0.5, 2 / 3])).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(averagePrecision([], [])).toBe(0);
  });
});

describe('evaluateDetections', () => {
  // Class 0: three objects over two images; five predictions ranked TP FP TP FP TP.
  // Class 1: one object, found once and duplicated (the duplicate is a false positive).
  // Class 2: no objects, one prediction (AP undefined, counted as a false positive overall).
  // Class 3: one object, never found (AP 0).
  const images: ImageResult[] = [
    {
      truths: [
        { classIndex: 0, box: box(0, 0) },
        { classIndex: 0, box: box(100, 100) },
        { classIndex: 1, box: box(200, 0) },
        { classIndex: 3, box: box(300, 300) },
      ],
      predictions: [
        { classIndex: 0, confidence: 0.9, box: box(1, 1) }, // TP (IoU 0.68)
        { classIndex: 0, confidence: 0.8, box: box(0, 0) }, // FP: duplicate of a matched object
        { classIndex: 0, confidence: 0.5, box: box(102, 100) }, // TP (IoU 0.67)
        { classIndex: 1, confidence: 0.95, box: box(200, 0) }, // TP
        { classIndex: 1, confidence: 0.3, box: box(201, 0) }, // FP duplicate
        { classIndex: 3, confidence: 0.99, box: box(100, 100) }, // FP: right place of another class's object
      ],
    },
    {
      truths: [{ classIndex: 0, box: box(50, 50) }],
      predictions: [
        { classIndex: 0, confidence: 0.7, box: box(50, 50) }, // TP
        { classIndex: 0, confidence: 0.6, box: box(55, 50) }, // FP: IoU 1/3 < 0.5 (and the object is taken)
        { classIndex: 2, confidence: 0.4, box: box(0, 200) }, // FP: class 2 has no objects
      ],
    },
  ];

  it('computes per-class AP, precision and recall as worked by hand', () => {
    const result = evaluateDetections(images, { numClasses: 4, iou: 0.5, confidence: 0.55 });
    const [c0, c1, c2, c3] = result.perClass;
    // Class 0 ranked 0.9 TP, 0.8 FP, 0.7 TP, 0.6 FP, 0.5 TP over 3 objects:
    // precision 1, 1/2, 2/3, 1/2, 3/5 at recall 1/3, 1/3, 2/3, 2/3, 1
    // envelope 1, 2/3, 2/3, 3/5, 3/5 → AP = (1 + 2/3 + 3/5) / 3 = 0.755…
    expect(c0!.ap).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 12);
    // At confidence ≥ 0.55: 0.9 TP, 0.8 FP, 0.7 TP, 0.6 FP → 2 TP, 2 FP, 1 missed.
    expect(c0).toMatchObject({ truths: 3, predictions: 5, tp: 2, fp: 2, fn: 1, precision: 0.5, recall: 2 / 3 });
    expect(c1!.ap).toBe(1);
    expect(c1).toMatchObject({ truths: 1, predictions: 2, tp: 1, fp: 0, fn: 0, precision: 1, recall: 1 });
    expect(c2).toMatchObject({ truths: 0, predictions: 1, tp: 0, fp: 0, fn: 0, ap: null });
    expect(c3).toMatchObject({ truths: 1, predictions: 1, tp: 0, fp: 1, fn: 1, precision: 0, recall: 0, ap: 0 });
    // mAP over the classes that have objects (0, 1, 3).
    expect(result.overall.map).toBeCloseTo(((1 + 2 / 3 + 3 / 5) / 3 + 1 + 0) / 3, 12);
    expect(result.overall).toMatchObject({ truths: 5, tp: 3, fp: 3, fn: 2, precision: 0.5, recall: 0.6 });
  });

  it('at a low operating threshold every prediction counts', () => {
    const result = evaluateDetections(images, { numClasses: 4, confidence: 0.001 });
    expect(result.perClass[0]).toMatchObject({ tp: 3, fp: 2, fn: 0, recall: 1 });
    expect(result.overall).toMatchObject({ tp: 4, fp: 5, fn: 1 });
    expect(result.iou).toBe(0.5);
  });

  it('a stricter IoU turns loose boxes into misses', () => {
    const result = evaluateDetections(images, { numClasses: 4, iou: 0.7, confidence: 0.001 });
    // IoU 0.68 and 0.67 fall below 0.7: class 0 keeps the two exact boxes (the former duplicate now matches).
    expect(result.perClass[0]).toMatchObject({ tp: 2, fp: 3 });
  });

  it('matches each prediction to the best unmatched object, not the first one listed', () => {
    const result = evaluateDetections(
      [
        {
          truths: [
            { classIndex: 0, box: box(0, 0) },
            { classIndex: 0, box: box(2, 0) },
          ],
          predictions: [
            { classIndex: 0, confidence: 0.9, box: box(2, 0) }, // best with the second object
            { classIndex: 0, confidence: 0.8, box: box(0, 0) }, // then the first is still free
          ],
        },
      ],
      { numClasses: 1 },
    );
    expect(result.perClass[0]).toMatchObject({ tp: 2, fp: 0, ap: 1 });
  });

  it('no images: nothing to score, mAP null', () => {
    const result = evaluateDetections([], { numClasses: 2 });
    expect(result.overall).toEqual({ truths: 0, tp: 0, fp: 0, fn: 0, precision: 0, recall: 0, map: null });
  });
});
