import type { Box } from './detector.js';

/** Where a frame lands inside the model input: scaled by `scale`, then padded (grey) on each side. */
export interface Letterbox {
  frame: { w: number; h: number };
  input: { width: number; height: number };
  scale: number;
  /** Size of the scaled frame inside the input, whole pixels. */
  resized: { w: number; h: number };
  pad: { left: number; top: number; right: number; bottom: number };
}

/**
 * Fits a frame into the model input keeping its aspect ratio, centred, as ultralytics `LetterBox`
 * does (scale up allowed; the odd padding pixel goes to the right/bottom).
 */
export function letterbox(frame: { w: number; h: number }, input: { width: number; height: number }): Letterbox {
  if (!(frame.w > 0 && frame.h > 0)) throw new RangeError(`frame size must be positive, got ${frame.w}×${frame.h}`);
  const scale = Math.min(input.width / frame.w, input.height / frame.h);
  const w = Math.min(input.width, Math.max(1, Math.round(frame.w * scale)));
  const h = Math.min(input.height, Math.max(1, Math.round(frame.h * scale)));
  const left = Math.floor((input.width - w) / 2);
  const top = Math.floor((input.height - h) / 2);
  return {
    frame: { w: frame.w, h: frame.h },
    input: { width: input.width, height: input.height },
    scale,
    resized: { w, h },
    pad: { left, top, right: input.width - w - left, bottom: input.height - h - top },
  };
}

const clip = (v: number, max: number): number => (v < 0 ? 0 : v > max ? max : v);

/** Maps a box in model-input pixels back to frame pixels, clipped to the frame. */
export function toFrameBox(box: Box, lb: Letterbox): Box {
  const { pad, frame } = lb;
  // Undo the padding, then the scale actually applied per axis (the resized size is rounded to whole pixels).
  const sx = lb.resized.w / frame.w;
  const sy = lb.resized.h / frame.h;
  return [
    clip((box[0] - pad.left) / sx, frame.w),
    clip((box[1] - pad.top) / sy, frame.h),
    clip((box[2] - pad.left) / sx, frame.w),
    clip((box[3] - pad.top) / sy, frame.h),
  ];
}

/** Maps a box in frame pixels into model-input pixels (the inverse of `toFrameBox`, for tests and drawing). */
export function toInputBox(box: Box, lb: Letterbox): Box {
  const sx = lb.resized.w / lb.frame.w;
  const sy = lb.resized.h / lb.frame.h;
  return [box[0] * sx + lb.pad.left, box[1] * sy + lb.pad.top, box[2] * sx + lb.pad.left, box[3] * sy + lb.pad.top];
}
