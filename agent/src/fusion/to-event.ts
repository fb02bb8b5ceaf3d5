import type { EventBodyInput } from '@roadwatch/shared';
import type { Box } from '../detect/detector.js';
import { normalizeDeg, wrapLon } from './geo.js';
import type { TrackedDefect } from './summarize.js';

/**
 * The wire shape of a tracked defect. Rounded to what the measurement supports (1e-7° ≈ 1 cm, 0.1 m,
 * 0.1 km/h, 0.1°, whole pixels) so payloads stay small; the box is clipped to the frame.
 */
export function toEventBody(defect: TrackedDefect, model?: string): EventBodyInput {
  const body: EventBodyInput = {
    ts: new Date(defect.tMs).toISOString(),
    clock: defect.clock,
    lat: round(Math.max(-90, Math.min(90, defect.lat)), 7),
    lon: round(wrapLon(defect.lon), 7),
    accuracyM: round(Math.min(100_000, Math.max(0, defect.accuracyM)), 1),
    class: defect.class,
    confidence: round(Math.max(0, Math.min(1, defect.confidence)), 3),
    hits: Math.max(1, Math.round(defect.hits)),
    bbox: clipBox(defect.bbox, defect.frame),
    frame: { w: Math.round(defect.frame.w), h: Math.round(defect.frame.h) },
  };
  if (defect.speedKmh !== null && Number.isFinite(defect.speedKmh)) body.speedKmh = round(Math.min(1_000, Math.max(0, defect.speedKmh)), 1);
  if (defect.headingDeg !== null && Number.isFinite(defect.headingDeg)) body.headingDeg = normalizeDeg(round(defect.headingDeg, 1));
  if (model) body.model = model;
  return body;
}

function clipBox(box: Box, frame: { w: number; h: number }): Box {
  const [x1, y1, x2, y2] = box;
  const cx = (x: number) => Math.round(Math.max(0, Math.min(frame.w, x)));
  const cy = (y: number) => Math.round(Math.max(0, Math.min(frame.h, y)));
  return [cx(x1), cy(y1), cx(x2), cy(y2)];
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
