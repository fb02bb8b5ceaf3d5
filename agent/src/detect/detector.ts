/** A box in frame pixels: left, top, right, bottom. */
export type Box = [x1: number, y1: number, x2: number, y2: number];

export interface Detection {
  class: string;
  classIndex: number;
  confidence: number;
  box: Box;
}

export type OutputLayout = 'yolov5' | 'yolov8';

export interface DetectorInfo {
  modelPath: string;
  /** sha256 of the model file, hex; stamped on every event with `model`. */
  sha256: string;
  /** `name@version` from the model metadata (or the file name when it has none). */
  model: string;
  classes: string[];
  input: { width: number; height: number };
  layout: OutputLayout;
  /** Execution provider actually in use after any fallback: 'cpu', 'cuda', 'tensorrt'. */
  provider: string;
  threads: number;
}

/** An encoded image (JPEG, PNG, …) or raw interleaved pixels. */
export type ImageInput = Buffer | { data: Buffer; width: number; height: number; channels: 3 | 4 };

export interface DetectTimings {
  preprocessMs: number;
  /** From handing the tensor to the inference worker to having its output back (queueing included). */
  inferenceMs: number;
  postprocessMs: number;
  /** `session.run` alone, timed inside the worker (when the detector has one). */
  sessionRunMs?: number;
}

export interface DetectResult {
  detections: Detection[];
  frame: { w: number; h: number };
  timings: DetectTimings;
}

export interface LatencySummary {
  count: number;
  failures: number;
  p50Ms: number | null;
  p95Ms: number | null;
}

/**
 * Finds road damage in one image. Implementations run inference off the main thread: the agent's
 * event loop also serves MQTT keepalives and SQLite.
 */
export interface Detector {
  readonly info: DetectorInfo;
  /** Rejects with a DetectError naming the cause for a bad image; the detector stays usable. */
  detect(image: ImageInput): Promise<DetectResult>;
  latency(): LatencySummary;
  close(): Promise<void>;
}
