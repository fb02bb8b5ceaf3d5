import { assertCameraGeometry, type CameraGeometry } from './camera-geometry.js';
import type { GroundAnchor } from './ground.js';
import { DEFAULT_POSITION_POLICY, type PositionPolicy } from './interpolate.js';
import { DEFAULT_DEDUPE_POLICY, DEFAULT_MOTION_POLICY, type DedupePolicy, type MotionPolicy } from './stationary.js';
import { DEFAULT_SUMMARY_CONFIG, type SummaryConfig } from './summarize.js';
import { DEFAULT_TRACKER_CONFIG, type TrackerConfig } from './tracker.js';

export interface ProjectionConfig {
  anchor: GroundAnchor;
  /** Expected jitter of a box edge in pixels (weights the position average). */
  edgeSigmaPx: number;
  /** A box edge this close to the frame edge is clipped: that hit does not place the defect. */
  clipMarginPx: number;
  /** Detections whose road point is farther than this are ignored (too small to place reliably). */
  maxRangeM: number;
}

export const DEFAULT_PROJECTION_CONFIG: Readonly<ProjectionConfig> = Object.freeze({
  anchor: 'footprint-centre',
  edgeSigmaPx: 2,
  clipMarginPx: 2,
  maxRangeM: 50,
});

export interface FusionConfig {
  camera: CameraGeometry;
  /** `name@version` stamped on every event. */
  model?: string;
  projection: ProjectionConfig;
  position: PositionPolicy;
  motion: MotionPolicy;
  dedupe: DedupePolicy;
  tracker: TrackerConfig;
  summary: Omit<SummaryConfig, 'lensAheadOfAntennaM'>;
  /** A finished track waits this long (frame time) for a fix after its last hit, so it is interpolated, not extrapolated. */
  holdForFixMs: number;
  /** GPS history kept, beyond what open tracks still need. */
  fixHistoryMs: number;
  /** Hard bound on the GPS history. */
  maxFixes: number;
  /** Boxes of different classes overlapping this much (intersection over the smaller box) are one defect: the less confident goes. */
  crossClassOverlap: number;
}

export interface FusionOptions {
  camera: CameraGeometry;
  model?: string;
  projection?: Partial<ProjectionConfig>;
  position?: Partial<PositionPolicy>;
  motion?: Partial<MotionPolicy>;
  dedupe?: Partial<DedupePolicy>;
  tracker?: Partial<TrackerConfig>;
  summary?: Partial<Omit<SummaryConfig, 'lensAheadOfAntennaM'>>;
  holdForFixMs?: number;
  fixHistoryMs?: number;
  maxFixes?: number;
  crossClassOverlap?: number;
}

export function resolveFusionConfig(options: FusionOptions): FusionConfig {
  assertCameraGeometry(options.camera);
  const { lensAheadOfAntennaM: _unused, ...summary } = DEFAULT_SUMMARY_CONFIG;
  const config: FusionConfig = {
    camera: options.camera,
    projection: { ...DEFAULT_PROJECTION_CONFIG, ...options.projection },
    position: { ...DEFAULT_POSITION_POLICY, ...options.position },
    motion: { ...DEFAULT_MOTION_POLICY, ...options.motion },
    dedupe: { ...DEFAULT_DEDUPE_POLICY, ...options.dedupe },
    tracker: { ...DEFAULT_TRACKER_CONFIG, ...options.tracker },
    summary: { ...summary, ...options.summary },
    holdForFixMs: options.holdForFixMs ?? 1_500,
    fixHistoryMs: options.fixHistoryMs ?? 120_000,
    maxFixes: options.maxFixes ?? 20_000,
    crossClassOverlap: options.crossClassOverlap ?? 0.5,
  };
  if (options.model !== undefined) config.model = options.model;
  if (config.tracker.minHits < 1) throw new RangeError(`tracker.minHits must be ≥ 1 (got ${config.tracker.minHits})`);
  if (config.motion.moveSpeedKmh < config.motion.stopSpeedKmh) {
    throw new RangeError(`motion.moveSpeedKmh (${config.motion.moveSpeedKmh}) must be ≥ motion.stopSpeedKmh (${config.motion.stopSpeedKmh})`);
  }
  return config;
}
