// One finished track → one TrackedDefect: where the defect is, how sure we are, and which frame shows it best.
import type { ClockSource } from '@roadwatch/shared';
import type { Box } from '../detect/detector.js';
import type { ImageSize } from './camera-geometry.js';
import { localOffsetM, offsetLatLon, type LatLon } from './geo.js';
import { groundPointToLatLon } from './ground.js';
import type { PoseMethod, VehiclePose } from './interpolate.js';
import type { Track, TrackHit } from './tracker.js';

export interface TrackedDefect {
  class: string;
  confidence: number;
  hits: number;
  /** The best frame: its box, size, time and clock source. */
  bbox: Box;
  frame: ImageSize;
  tMs: number;
  clock: ClockSource;
  /** The defect's position (not the vehicle's). */
  lat: number;
  lon: number;
  accuracyM: number;
  /** The vehicle at the best frame. */
  headingDeg: number | null;
  speedKmh: number | null;
  /** The worst vehicle-pose method among the hits used: `degraded` flags a position from an old fix. */
  poseMethod: PoseMethod;
}

/**
 * - `weighted-hits`: every usable hit places the defect; the estimates are averaged with weights
 *   1/σ², σ growing with distance (box-edge jitter costs ~Z² metres), so near frames dominate and far
 *   ones still reduce the noise.
 * - `best-frame`: the best frame's estimate alone.
 */
export type PositionMethod = 'weighted-hits' | 'best-frame';

export interface SummaryConfig {
  position: PositionMethod;
  /** Confidence is the mean of this many highest hit confidences. */
  confidenceTopK: number;
  /** The best frame is the nearest hit whose confidence is at least this fraction of the track's best. */
  bestFrameMinRelativeConfidence: number;
  /** Lens ahead of the GPS antenna. */
  lensAheadOfAntennaM: number;
}

export const DEFAULT_SUMMARY_CONFIG: Readonly<SummaryConfig> = Object.freeze({
  position: 'weighted-hits',
  confidenceTopK: 3,
  bestFrameMinRelativeConfidence: 0.5,
  lensAheadOfAntennaM: 0,
});

interface PlacedHit {
  hit: TrackHit;
  pose: VehiclePose & { headingDeg: number };
  at: LatLon;
  sigmaM: number;
}

const POSE_METHOD_RANK: Record<PoseMethod, number> = { interpolated: 0, extrapolated: 1, degraded: 2 };

/** Null when no hit can be placed (no vehicle pose or heading for any of them): the track cannot be positioned. */
export function summarizeTrack(
  track: Track,
  poseOf: (hit: TrackHit) => VehiclePose | null,
  config: SummaryConfig = DEFAULT_SUMMARY_CONFIG,
): TrackedDefect | null {
  const placed: PlacedHit[] = [];
  for (const hit of track.hits) {
    const pose = poseOf(hit);
    if (!pose || pose.headingDeg === null) continue;
    const headed = { ...pose, headingDeg: pose.headingDeg };
    placed.push({ hit, pose: headed, at: groundPointToLatLon(headed, hit.ground.point, config.lensAheadOfAntennaM), sigmaM: hit.ground.sigmaM });
  }
  if (placed.length === 0) return null;
  const unclipped = placed.filter((p) => !p.hit.ground.clipped);
  const usable = unclipped.length > 0 ? unclipped : placed;
  const best = bestFrame(usable, config);
  const { at, projectionSigmaM, used } = config.position === 'best-frame' ? single(best) : weighted(usable, best);
  const worstPose = used.reduce((worst, p) => (POSE_METHOD_RANK[p.pose.method] > POSE_METHOD_RANK[worst] ? p.pose.method : worst), 'interpolated' as PoseMethod);
  return {
    class: track.class,
    confidence: topKMean(track.hits.map((h) => h.confidence), config.confidenceTopK),
    hits: track.hitCount,
    bbox: best.hit.box,
    frame: best.hit.frame,
    tMs: best.hit.tMs,
    clock: best.hit.clock,
    lat: at.lat,
    lon: at.lon,
    accuracyM: Math.hypot(best.pose.accuracyM, projectionSigmaM),
    headingDeg: best.pose.headingDeg,
    speedKmh: best.pose.speedKmh,
    poseMethod: worstPose,
  };
}

/**
 * The nearest hit that is not much weaker than the track's strongest: near frames locate the defect
 * best (range error grows with the square of the distance) and show it largest; the confidence floor
 * keeps a blurred, half-detected last frame from being the evidence.
 */
function bestFrame(placed: readonly PlacedHit[], config: SummaryConfig): PlacedHit {
  const top = Math.max(...placed.map((p) => p.hit.confidence));
  const strong = placed.filter((p) => p.hit.confidence >= top * config.bestFrameMinRelativeConfidence);
  return strong.reduce((best, p) =>
    p.hit.ground.near.zM < best.hit.ground.near.zM || (p.hit.ground.near.zM === best.hit.ground.near.zM && p.hit.confidence > best.hit.confidence) ? p : best,
  );
}

function single(best: PlacedHit): { at: LatLon; projectionSigmaM: number; used: PlacedHit[] } {
  return { at: best.at, projectionSigmaM: best.sigmaM, used: [best] };
}

/**
 * Averaged on the tangent plane at the best estimate (antimeridian-safe). A hit's weight also pays for
 * a vehicle pose worse than the best one (an extrapolated or degraded fix).
 */
function weighted(placed: readonly PlacedHit[], best: PlacedHit): { at: LatLon; projectionSigmaM: number; used: PlacedHit[] } {
  const bestPoseAccuracy = Math.min(...placed.map((p) => p.pose.accuracyM));
  let sumW = 0;
  let sumProjW = 0;
  let north = 0;
  let east = 0;
  for (const p of placed) {
    const extraPose = p.pose.accuracyM - bestPoseAccuracy;
    const w = 1 / (p.sigmaM * p.sigmaM + extraPose * extraPose + 1e-6);
    const offset = localOffsetM(best.at, p.at);
    north += w * offset.northM;
    east += w * offset.eastM;
    sumW += w;
    sumProjW += 1 / (p.sigmaM * p.sigmaM + 1e-6);
  }
  return { at: offsetLatLon(best.at, { northM: north / sumW, eastM: east / sumW }), projectionSigmaM: 1 / Math.sqrt(sumProjW), used: [...placed] };
}

export function topKMean(values: readonly number[], k: number): number {
  const top = [...values].sort((a, b) => b - a).slice(0, Math.max(1, k));
  return top.reduce((s, v) => s + v, 0) / top.length;
}
