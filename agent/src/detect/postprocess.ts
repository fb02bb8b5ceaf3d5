import { decodeOutput, type LayoutInfo } from './decode.js';
import type { Detection } from './detector.js';
import type { Letterbox } from './letterbox.js';
import { toFrameBox } from './letterbox.js';
import { nms } from './nms.js';

export interface PostprocessOptions {
  layout: LayoutInfo;
  /** Per-class minimum confidence, indexed like `classes`. */
  thresholds: ArrayLike<number>;
  classes: readonly string[];
  iou: number;
  maxDetections: number;
}

/** Most candidates NMS looks at (as ultralytics' max_nms): a threshold of 0 cannot make it quadratic in N. */
const MAX_CANDIDATES = 30_000;

/** Model output → detections in frame pixels: thresholds, class-aware NMS, letterbox undone, boxes clipped. */
export function postprocess(output: ArrayLike<number>, lb: Letterbox, options: PostprocessOptions): Detection[] {
  let candidates = decodeOutput(output, options.layout, options.thresholds);
  if (candidates.length > MAX_CANDIDATES) candidates = candidates.sort((a, b) => b.confidence - a.confidence).slice(0, MAX_CANDIDATES);
  const detections: Detection[] = [];
  for (const kept of nms(candidates, options.iou, options.maxDetections)) {
    const box = toFrameBox(kept.box, lb);
    if (box[2] - box[0] <= 0 || box[3] - box[1] <= 0) continue; // wholly in the padding
    detections.push({ class: options.classes[kept.classIndex]!, classIndex: kept.classIndex, confidence: kept.confidence, box });
  }
  return detections;
}
