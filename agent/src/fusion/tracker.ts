// Follows each defect across frames so one physical defect becomes one event. Pure reducer:
// step(state, frame) → { state, finished }. Association is on the road, not in the image: the tracker
// predicts where a defect's near edge should be now (it was zM ahead, the vehicle has since driven d
// metres, so it is zM − d ahead — in the image it moves down and grows) and gates the distance to each
// new detection, with a range gate that widens with distance because box-edge jitter costs more metres
// far away.
import type { ClockSource } from '@roadwatch/shared';
import type { Box } from '../detect/detector.js';
import type { GroundPoint, ImageSize } from './camera-geometry.js';
import { distanceM } from './geo.js';
import type { BoxOnGround } from './ground.js';
import type { VehiclePose } from './interpolate.js';

export interface TrackerConfig {
  /** Hits a track needs to become an event; one-frame false positives stay below it. */
  minHits: number;
  /**
   * When fewer frames than this are expected while a defect is in view (fast vehicle, sparse frames),
   * a single hit of at least `singleHitMinConfidence` is enough.
   */
  sparseFrames: number;
  singleHitMinConfidence: number;
  /** Metres of road over which a defect is typically detected, for the expected-frames estimate. */
  viewSpanM: number;
  /** A track ends after this many consecutive frames without a match… */
  maxMissedFrames: number;
  /** …or once the vehicle has driven this far since it was last seen (dropped frames, slow detector). */
  maxGapTravelM: number;
  /** A "defect" that stays in view this long while driving is stuck to the car (a reflection, a sticker). */
  maxTrackTravelM: number;
  /** A box whose bottom is this close to the frame's bottom edge has left the frame on its next miss. */
  exitMarginPx: number;
  /** Association gate along the line of sight: base + fraction × distance ahead. */
  rangeGateBaseM: number;
  rangeGateFraction: number;
  /** Association gate across: base + fraction × distance ahead. */
  lateralGateBaseM: number;
  lateralGateFraction: number;
  /** Hits kept per track (the oldest, farthest ones are dropped first; the count keeps going). */
  maxHitsKept: number;
  /**
   * Added to the association cost when a detection's class differs from the track's. A detector
   * often calls one defect by two names across frames (an alligator patch with a broken-out block is
   * "pothole" in one frame): such a detection still joins the track when nothing of its own class is
   * there, and the track's class is the confidence-weighted vote of its hits.
   */
  classMismatchCost: number;
}

export const DEFAULT_TRACKER_CONFIG: Readonly<TrackerConfig> = Object.freeze({
  minHits: 2,
  sparseFrames: 3,
  singleHitMinConfidence: 0.5,
  viewSpanM: 20,
  maxMissedFrames: 3,
  maxGapTravelM: 10,
  maxTrackTravelM: 80,
  exitMarginPx: 4,
  rangeGateBaseM: 1,
  rangeGateFraction: 0.25,
  lateralGateBaseM: 0.8,
  lateralGateFraction: 0.05,
  maxHitsKept: 64,
  classMismatchCost: 0.5,
});

/** A detection already placed on the road (detections that are not on the road never reach the tracker). */
export interface ObservedDetection {
  class: string;
  confidence: number;
  box: Box;
  ground: BoxOnGround;
}

export interface TrackerFrame {
  tMs: number;
  clock: ClockSource;
  frame: ImageSize;
  detections: readonly ObservedDetection[];
  /** Vehicle pose at frame time as known when the frame arrived (provisional), if any. */
  pose: VehiclePose | null;
  /** Road distance seen at the bottom row: a defect predicted nearer than this has left the frame. */
  nearestVisibleM: number | null;
}

export interface TrackHit {
  tMs: number;
  clock: ClockSource;
  frame: ImageSize;
  box: Box;
  confidence: number;
  ground: BoxOnGround;
  pose: VehiclePose | null;
}

export interface Track {
  id: number;
  /** The class with the most confidence summed over the hits. */
  class: string;
  /** Confidence summed per class over every hit. */
  classVotes: Readonly<Record<string, number>>;
  /** Oldest first; at most maxHitsKept. */
  hits: TrackHit[];
  hitCount: number;
  missedFrames: number;
  firstOdometerM: number;
  lastSeenOdometerM: number;
  /** Followed for more than maxTrackTravelM of driving: kept (so it keeps absorbing its detections) but never emitted. */
  stuck: boolean;
}

export interface TrackerState {
  nextId: number;
  tracks: readonly Track[];
  /** Distance driven since the tracker started. */
  odometerM: number;
  last: { tMs: number; pose: VehiclePose | null } | null;
  speedMps: number | null;
  /** Smoothed time between frames. */
  frameIntervalMs: number | null;
}

export const INITIAL_TRACKER_STATE: Readonly<TrackerState> = Object.freeze({
  nextId: 1,
  tracks: [],
  odometerM: 0,
  last: null,
  speedMps: null,
  frameIntervalMs: null,
});

export type EndReason = 'exited' | 'missed' | 'gap' | 'flush';

export interface FinishedTrack {
  track: Track;
  reason: EndReason;
}

export interface Discarded {
  /** Tracks with fewer hits than required (one-frame false positives). */
  tooFewHits: number;
  /** Tracks that stayed in view for maxTrackTravelM of driving. */
  stuckToVehicle: number;
}

export interface StepResult {
  state: TrackerState;
  /** Tracks that ended with enough hits, in the order they ended. */
  finished: FinishedTrack[];
  discarded: Discarded;
}

/** Frames further apart than this don't update the frame-interval estimate (a pause, not a rate). */
const MAX_INTERVAL_SAMPLE_MS = 5_000;
const ODOMETRY_MAX_DT_MS = 2_000;

export function step(state: TrackerState, frame: TrackerFrame, config: TrackerConfig = DEFAULT_TRACKER_CONFIG): StepResult {
  const motion = advanceOdometer(state, frame);
  const odometerM = motion.odometerM;
  const matches = associate(state.tracks, frame.detections, odometerM, config);
  const finished: FinishedTrack[] = [];
  const discarded: Discarded = { tooFewHits: 0, stuckToVehicle: 0 };
  const open: Track[] = [];
  let nextId = state.nextId;

  state.tracks.forEach((track, index) => {
    const detectionIndex = matches.byTrack.get(index);
    if (detectionIndex !== undefined) {
      const detection = frame.detections[detectionIndex]!;
      const updated = addHit(track, toHit(frame, detection), detection.class, odometerM, config);
      open.push(odometerM - updated.firstOdometerM > config.maxTrackTravelM ? { ...updated, stuck: true } : updated);
      return;
    }
    const missed = { ...track, missedFrames: track.missedFrames + 1 };
    const reason = endReason(missed, frame, odometerM, config);
    if (reason === null) open.push(missed);
    else settle(missed, reason, motion.speedMps, motion.frameIntervalMs, config, finished, discarded);
  });

  frame.detections.forEach((detection, index) => {
    if (matches.taken.has(index)) return;
    open.push({
      id: nextId++,
      class: detection.class,
      classVotes: { [detection.class]: detection.confidence },
      hits: [toHit(frame, detection)],
      hitCount: 1,
      missedFrames: 0,
      firstOdometerM: odometerM,
      lastSeenOdometerM: odometerM,
      stuck: false,
    });
  });

  return {
    state: { nextId, tracks: open, odometerM, last: { tMs: frame.tMs, pose: frame.pose }, speedMps: motion.speedMps, frameIntervalMs: motion.frameIntervalMs },
    finished,
    discarded,
  };
}

/** End of drive (or stop): every open track ends now; those with enough hits are finished. */
export function flushTracks(state: TrackerState, config: TrackerConfig = DEFAULT_TRACKER_CONFIG): StepResult {
  const finished: FinishedTrack[] = [];
  const discarded: Discarded = { tooFewHits: 0, stuckToVehicle: 0 };
  for (const track of state.tracks) settle(track, 'flush', state.speedMps, state.frameIntervalMs, config, finished, discarded);
  return { state: { ...state, tracks: [] }, finished, discarded };
}

/** Hits a track needs: minHits, or 1 when the vehicle is too fast for the frame rate to see a defect twice. */
export function requiredHits(speedMps: number | null, frameIntervalMs: number | null, config: TrackerConfig): number {
  if (speedMps === null || frameIntervalMs === null || speedMps <= 0) return config.minHits;
  const expectedFrames = config.viewSpanM / (speedMps * (frameIntervalMs / 1000));
  return expectedFrames < config.sparseFrames ? 1 : config.minHits;
}

function settle(
  track: Track,
  reason: EndReason,
  speedMps: number | null,
  frameIntervalMs: number | null,
  config: TrackerConfig,
  finished: FinishedTrack[],
  discarded: Discarded,
): void {
  if (track.stuck) {
    discarded.stuckToVehicle++;
    return;
  }
  const needed = requiredHits(speedMps, frameIntervalMs, config);
  const single = track.hitCount === 1 && track.hits[0]!.confidence < config.singleHitMinConfidence;
  if (track.hitCount < needed || single) discarded.tooFewHits++;
  else finished.push({ track, reason });
}

function endReason(track: Track, frame: TrackerFrame, odometerM: number, config: TrackerConfig): EndReason | null {
  const last = track.hits[track.hits.length - 1]!;
  const travelled = odometerM - track.lastSeenOdometerM;
  const predictedZ = last.ground.near.zM - travelled;
  if (last.box[3] >= last.frame.h - config.exitMarginPx) return 'exited';
  if (frame.nearestVisibleM !== null && predictedZ < frame.nearestVisibleM) return 'exited';
  if (travelled > config.maxGapTravelM) return 'gap';
  if (track.missedFrames >= config.maxMissedFrames) return 'missed';
  return null;
}

function toHit(frame: TrackerFrame, detection: ObservedDetection): TrackHit {
  return {
    tMs: frame.tMs,
    clock: frame.clock,
    frame: frame.frame,
    box: detection.box,
    confidence: detection.confidence,
    ground: detection.ground,
    pose: frame.pose,
  };
}

function addHit(track: Track, hit: TrackHit, cls: string, odometerM: number, config: TrackerConfig): Track {
  const hits = [...track.hits, hit];
  if (hits.length > config.maxHitsKept) hits.splice(0, hits.length - config.maxHitsKept);
  const classVotes = { ...track.classVotes, [cls]: (track.classVotes[cls] ?? 0) + hit.confidence };
  return { ...track, class: leadingClass(classVotes, track.class), classVotes, hits, hitCount: track.hitCount + 1, missedFrames: 0, lastSeenOdometerM: odometerM };
}

/** The class with the highest vote; the current one keeps a tie. */
function leadingClass(votes: Readonly<Record<string, number>>, current: string): string {
  let best = current;
  for (const [cls, vote] of Object.entries(votes)) if (vote > (votes[best] ?? 0)) best = cls;
  return best;
}

/**
 * Distance driven since the previous frame: from the two poses when both are known (right across a
 * stop, when frames were not fed to the tracker), else speed × time with the time capped so a long
 * pause without GPS cannot teleport every track out of its gate.
 */
function advanceOdometer(state: TrackerState, frame: TrackerFrame): { odometerM: number; speedMps: number | null; frameIntervalMs: number | null } {
  const speedKmh = frame.pose?.speedKmh ?? null;
  const speedMps = speedKmh !== null ? speedKmh / 3.6 : state.speedMps;
  if (!state.last) return { odometerM: state.odometerM, speedMps, frameIntervalMs: state.frameIntervalMs };
  const dtMs = Math.max(0, frame.tMs - state.last.tMs);
  let frameIntervalMs = state.frameIntervalMs;
  if (dtMs > 0 && dtMs <= MAX_INTERVAL_SAMPLE_MS) frameIntervalMs = frameIntervalMs === null ? dtMs : 0.8 * frameIntervalMs + 0.2 * dtMs;
  const previous = state.last.pose;
  let travelled: number;
  if (previous && frame.pose) travelled = distanceM(previous, frame.pose);
  else travelled = (speedMps ?? 0) * (Math.min(dtMs, ODOMETRY_MAX_DT_MS) / 1000);
  return { odometerM: state.odometerM + travelled, speedMps, frameIntervalMs };
}

interface Matches {
  byTrack: Map<number, number>;
  taken: Set<number>;
}

/** Greedy assignment by normalised gate distance: few defects per frame, so no Hungarian needed. */
function associate(tracks: readonly Track[], detections: readonly ObservedDetection[], odometerM: number, config: TrackerConfig): Matches {
  const pairs: { track: number; detection: number; cost: number }[] = [];
  tracks.forEach((track, t) => {
    const last = track.hits[track.hits.length - 1]!;
    const predicted: GroundPoint = { xM: last.ground.near.xM, zM: last.ground.near.zM - (odometerM - track.lastSeenOdometerM) };
    detections.forEach((detection, d) => {
      const cost = gateCost(predicted, detection.ground.near, config);
      if (cost <= 1) pairs.push({ track: t, detection: d, cost: detection.class === track.class ? cost : cost + config.classMismatchCost });
    });
  });
  pairs.sort((a, b) => a.cost - b.cost);
  const byTrack = new Map<number, number>();
  const taken = new Set<number>();
  for (const pair of pairs) {
    if (byTrack.has(pair.track) || taken.has(pair.detection)) continue;
    byTrack.set(pair.track, pair.detection);
    taken.add(pair.detection);
  }
  return { byTrack, taken };
}

/** ≤ 1 inside the gate. */
export function gateCost(predicted: GroundPoint, observed: GroundPoint, config: TrackerConfig): number {
  const z = Math.max(0, Math.min(predicted.zM, observed.zM));
  const rangeGate = config.rangeGateBaseM + config.rangeGateFraction * z;
  const lateralGate = config.lateralGateBaseM + config.lateralGateFraction * z;
  return Math.hypot((observed.zM - predicted.zM) / rangeGate, (observed.xM - predicted.xM) / lateralGate);
}
