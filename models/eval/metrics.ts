// Detection metrics, pure: precision, recall and all-point interpolated AP at one IoU threshold
// (VOC 2010+ / COCO style), per class and overall. No I/O, no model: tested against hand-computed cases.

/** A box in pixels: left, top, right, bottom. */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number];

export interface Truth {
  classIndex: number;
  box: Box;
}

export interface Prediction {
  classIndex: number;
  confidence: number;
  box: Box;
}

/** One image: its labelled objects and what the detector found in it. */
export interface ImageResult {
  truths: readonly Truth[];
  predictions: readonly Prediction[];
}

export interface EvalOptions {
  numClasses: number;
  /** A prediction matches a truth of its class when their IoU is at least this (0.5 for mAP@0.5). */
  iou?: number;
  /** The operating point at which precision and recall are reported (the engine's default threshold). */
  confidence?: number;
}

export interface ClassMetrics {
  classIndex: number;
  /** Labelled objects of the class. */
  truths: number;
  /** Predictions of the class at any confidence (the AP curve). */
  predictions: number;
  /** Counts and rates at the operating confidence. */
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  /** Area under the interpolated precision/recall curve; null when the class has no labelled object. */
  ap: number | null;
}

export interface EvalSummary {
  perClass: ClassMetrics[];
  overall: {
    truths: number;
    tp: number;
    fp: number;
    fn: number;
    /** Pooled over every class: tp / (tp + fp), at the operating confidence. */
    precision: number;
    /** Pooled over every class: tp / (tp + fn), at the operating confidence. */
    recall: number;
    /** Mean of the per-class APs, over the classes that have labelled objects. */
    map: number | null;
  };
  iou: number;
  confidence: number;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}

function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

/**
 * Area under the precision/recall curve with all-point interpolation: precision is first made
 * monotonically non-increasing (each point takes the best precision at any higher recall), then
 * summed over every step in recall. `recall` must be non-decreasing, as cumulative curves are.
 */
export function averagePrecision(recall: readonly number[], precision: readonly number[]): number {
  const r = [0, ...recall, 1];
  const p = [0, ...precision, 0];
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i]!, p[i + 1]!);
  let ap = 0;
  for (let i = 1; i < r.length; i++) {
    const dr = r[i]! - r[i - 1]!;
    if (dr > 0) ap += dr * p[i]!;
  }
  return ap;
}

interface Scored {
  confidence: number;
  tp: boolean;
}

/**
 * Greedy matching, highest confidence first: a prediction is a true positive when the unmatched
 * truth of its class with which it has the highest IoU reaches the threshold; duplicates of a matched
 * object and predictions of the wrong class are false positives.
 */
function matchClass(images: readonly ImageResult[], classIndex: number, threshold: number): { scored: Scored[]; truths: number } {
  const all: Array<{ image: number; prediction: Prediction; order: number }> = [];
  let truths = 0;
  let order = 0;
  images.forEach((image, i) => {
    truths += image.truths.filter((t) => t.classIndex === classIndex).length;
    for (const prediction of image.predictions) if (prediction.classIndex === classIndex) all.push({ image: i, prediction, order: order++ });
  });
  all.sort((a, b) => b.prediction.confidence - a.prediction.confidence || a.order - b.order);
  const used = images.map((image) => image.truths.map(() => false));
  const scored = all.map(({ image, prediction }): Scored => {
    const candidates = images[image]!.truths;
    let best = -1;
    let bestIou = threshold;
    candidates.forEach((truth, t) => {
      if (truth.classIndex !== classIndex || used[image]![t]) return;
      const overlap = iou(prediction.box, truth.box);
      if (overlap >= bestIou && (best < 0 || overlap > bestIou)) [best, bestIou] = [t, overlap];
    });
    if (best >= 0) used[image]![best] = true;
    return { confidence: prediction.confidence, tp: best >= 0 };
  });
  return { scored, truths };
}

export function evaluateDetections(images: readonly ImageResult[], options: EvalOptions): EvalSummary {
  const threshold = options.iou ?? 0.5;
  const operating = options.confidence ?? 0.25;
  const perClass: ClassMetrics[] = [];
  for (let c = 0; c < options.numClasses; c++) {
    const { scored, truths } = matchClass(images, c, threshold);
    const recall: number[] = [];
    const precision: number[] = [];
    let tp = 0;
    let fp = 0;
    let tpAt = 0;
    let fpAt = 0;
    for (const s of scored) {
      if (s.tp) tp++;
      else fp++;
      recall.push(truths > 0 ? tp / truths : 0);
      precision.push(tp / (tp + fp));
      if (s.confidence >= operating) [tpAt, fpAt] = [tp, fp];
    }
    perClass.push({
      classIndex: c,
      truths,
      predictions: scored.length,
      tp: tpAt,
      fp: fpAt,
      fn: truths - tpAt,
      precision: ratio(tpAt, tpAt + fpAt),
      recall: ratio(tpAt, truths),
      ap: truths > 0 ? averagePrecision(recall, precision) : null,
    });
  }
  const sum = (key: 'truths' | 'tp' | 'fp' | 'fn') => perClass.reduce((n, m) => n + m[key], 0);
  const aps = perClass.flatMap((m) => (m.ap === null ? [] : [m.ap]));
  const [tp, fp, fn, truths] = [sum('tp'), sum('fp'), sum('fn'), sum('truths')];
  return {
    perClass,
    overall: { truths, tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, truths), map: aps.length > 0 ? aps.reduce((a, b) => a + b, 0) / aps.length : null },
    iou: threshold,
    confidence: operating,
  };
}

/** 0 when there is nothing to divide (no predictions: precision 0, as ultralytics reports it). */
function ratio(n: number, d: number): number {
  return d > 0 ? n / d : 0;
}
