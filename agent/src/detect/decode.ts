import type { Box, OutputLayout } from './detector.js';
import { ModelError } from './errors.js';

/** A box above its class threshold, before NMS, in model-input pixels. */
export interface Candidate {
  box: Box;
  classIndex: number;
  confidence: number;
}

export interface LayoutInfo {
  layout: OutputLayout;
  numClasses: number;
  numBoxes: number;
}

/** What the model metadata says, as far as the layout is concerned. */
export interface LayoutHints {
  /** Class count from the metadata `names` (or the configured class list). */
  numClasses?: number;
  /** ultralytics (YOLOv8/11, and YOLOv5u) exports write `task`; the YOLOv5 repository's exports do not. */
  ultralyticsHead?: boolean;
}

const EXPORT_FIX =
  'export with ultralytics (`yolo export model=best.pt format=onnx`, YOLOv8/11, or YOLOv5 `export.py --include onnx`) without nms/end2end options';

/**
 * Tells YOLOv8/11 `[1, 4+nc, N]` from YOLOv5 `[1, N, 5+nc]` by the output shape, using the class
 * count from the metadata when there is one (e.g. [1,84,8400] vs [1,25200,85]). Without a class
 * count the smaller dimension is the per-box one (N is in the thousands for real models).
 */
export function detectLayout(dims: readonly number[], hints: LayoutHints = {}): LayoutInfo {
  const shape = `[${dims.join(',')}]`;
  const nc = hints.numClasses;
  const neither = (detail: string): ModelError =>
    new ModelError(`model output ${shape} matches neither YOLOv5 [1,N,5+nc] nor YOLOv8 [1,4+nc,N]${detail}`, EXPORT_FIX);
  if (dims.length !== 3 || dims[0] !== 1 || !dims.every((d) => Number.isInteger(d) && d > 0)) {
    throw neither(' (expected one batch of 3 dimensions)');
  }
  const a = dims[1]!;
  const b = dims[2]!;
  if (nc !== undefined) {
    const v8 = a === 4 + nc;
    const v5 = b === 5 + nc;
    if (v8 && v5) {
      if (hints.ultralyticsHead !== undefined) {
        return hints.ultralyticsHead ? { layout: 'yolov8', numClasses: nc, numBoxes: b } : { layout: 'yolov5', numClasses: nc, numBoxes: a };
      }
      throw new ModelError(
        `model output ${shape} fits both YOLOv8 [1,4+nc,N] and YOLOv5 [1,N,5+nc] with ${nc} classes and the metadata does not say which`,
        EXPORT_FIX,
      );
    }
    if (v8) return { layout: 'yolov8', numClasses: nc, numBoxes: b };
    if (v5) return { layout: 'yolov5', numClasses: nc, numBoxes: a };
    throw neither(` for ${nc} classes (YOLOv8 would be [1,${4 + nc},N], YOLOv5 [1,N,${5 + nc}])`);
  }
  if (a < b && a >= 5) return { layout: 'yolov8', numClasses: a - 4, numBoxes: b };
  if (b < a && b >= 6) return { layout: 'yolov5', numClasses: b - 5, numBoxes: a };
  throw neither('');
}

/** Per-class minimum confidence: `confidence` for every class unless `classConfidence` names it. */
export function classThresholds(classes: readonly string[], confidence: number, classConfidence: Readonly<Record<string, number>> = {}): Float32Array {
  const unknown = Object.keys(classConfidence).filter((name) => !classes.includes(name));
  if (unknown.length) {
    throw new ModelError(
      `detector.classConfidence names ${unknown.map((n) => `"${n}"`).join(', ')}, which the model does not have (classes: ${classes.join(', ')})`,
      'use the model’s class names in detector.classConfidence',
    );
  }
  return Float32Array.from(classes, (name) => classConfidence[name] ?? confidence);
}

function xywhToBox(cx: number, cy: number, w: number, h: number): Box {
  return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2];
}

/** YOLOv8/11 `[1, 4+nc, N]`: rows cx, cy, w, h, then one score row per class (already sigmoid). */
export function decodeYolov8(data: ArrayLike<number>, info: LayoutInfo, thresholds: ArrayLike<number>): Candidate[] {
  const n = info.numBoxes;
  const nc = info.numClasses;
  const minThreshold = Math.min(...Array.from(thresholds));
  const out: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < nc; c++) {
      const s = data[(4 + c) * n + i]!;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (bestScore < minThreshold || bestScore < thresholds[best]!) continue;
    out.push({ box: xywhToBox(data[i]!, data[n + i]!, data[2 * n + i]!, data[3 * n + i]!), classIndex: best, confidence: bestScore });
  }
  return out;
}

/** YOLOv5 `[1, N, 5+nc]`: per row cx, cy, w, h, objectness, class scores; confidence = obj × cls. */
export function decodeYolov5(data: ArrayLike<number>, info: LayoutInfo, thresholds: ArrayLike<number>): Candidate[] {
  const stride = 5 + info.numClasses;
  const minThreshold = Math.min(...Array.from(thresholds));
  const out: Candidate[] = [];
  for (let i = 0; i < info.numBoxes; i++) {
    const row = i * stride;
    const obj = data[row + 4]!;
    if (obj < minThreshold) continue; // obj × cls ≤ obj: this row cannot pass any threshold
    let best = -1;
    let bestScore = -Infinity;
    for (let c = 0; c < info.numClasses; c++) {
      const s = data[row + 5 + c]! * obj;
      if (s > bestScore) {
        bestScore = s;
        best = c;
      }
    }
    if (bestScore < thresholds[best]!) continue;
    out.push({ box: xywhToBox(data[row]!, data[row + 1]!, data[row + 2]!, data[row + 3]!), classIndex: best, confidence: bestScore });
  }
  return out;
}

/**
 * Candidates from one output tensor. Each box keeps only its best class (as ultralytics does by
 * default), which must reach that class's threshold.
 */
export function decodeOutput(data: ArrayLike<number>, info: LayoutInfo, thresholds: ArrayLike<number>): Candidate[] {
  if (thresholds.length !== info.numClasses) {
    throw new RangeError(`${thresholds.length} thresholds for ${info.numClasses} classes`);
  }
  const expected = info.numBoxes * (info.layout === 'yolov8' ? 4 + info.numClasses : 5 + info.numClasses);
  if (data.length !== expected) throw new RangeError(`output has ${data.length} values, expected ${expected}`);
  return info.layout === 'yolov8' ? decodeYolov8(data, info, thresholds) : decodeYolov5(data, info, thresholds);
}
