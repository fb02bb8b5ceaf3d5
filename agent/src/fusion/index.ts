// The Fusion facade: GPS fixes and detected frames in, one event per physical defect out. No I/O and
// no wall clock: every decision is timed by the frames' and fixes' own timestamps, which must share
// one time base (the clock policy's corrected epoch ms).
import type { ClockSource, EventBodyInput } from '@roadwatch/shared';
import type { Detection } from '../detect/detector.js';
import { overlapOfSmaller } from '../detect/nms.js';
import { groundPointAt, pinhole, type ImageSize, type Pinhole } from './camera-geometry.js';
import { resolveFusionConfig, type FusionConfig, type FusionOptions } from './config.js';
import { projectBox } from './ground.js';
import { addFix, isUsableFix, poseAt, pruneFixes, type FixSample, type PoseMethod, type VehiclePose } from './interpolate.js';
import { INITIAL_MOTION, isAlreadyReported, rememberSpot, updateMotion, type MotionState, type ReportedSpot } from './stationary.js';
import { summarizeTrack, type TrackedDefect } from './summarize.js';
import { toEventBody } from './to-event.js';
import { flushTracks, INITIAL_TRACKER_STATE, step, type ObservedDetection, type StepResult, type Track, type TrackerState } from './tracker.js';

export interface FrameInput {
  tMs: number;
  clock: ClockSource;
  detections: readonly Detection[];
  frame: ImageSize;
}

/** GPS state at the last frame: `stale`/`no-fix` are a GPS fault for the status report. */
export type GpsHealth = 'ok' | 'degraded' | 'stale' | 'no-fix';

export interface FusionStats {
  frames: number;
  /** Frames with no usable vehicle position when they arrived (no fix, or the newest fix too old). */
  framesWithoutPosition: number;
  framesWhileStationary: number;
  framesOutOfOrder: number;
  detections: number;
  /** Detections at or above the horizon or beyond maxRangeM: not on the road we can place. */
  detectionsOffRoad: number;
  /** Detections dropped because a more confident one of another class covers the same spot (crossClassOverlap). */
  detectionsCrossClass: number;
  detectionsWhileStationary: number;
  tracksOpen: number;
  /** Finished tracks waiting for a fix after their last hit. */
  tracksHeld: number;
  eventsEmitted: number;
  suppressedTooFewHits: number;
  suppressedStuckToVehicle: number;
  suppressedDuplicates: number;
  /** Finished tracks with no position by the policy: dropped, never guessed. */
  droppedNoPosition: number;
  stationary: boolean;
  gps: GpsHealth;
  /** Frame time minus the newest fix's time at the last frame. */
  lastFixAgeMs: number | null;
  /** GPS fixes held in the history. */
  fixesKept: number;
}

export class Fusion {
  readonly config: FusionConfig;
  private fixes: FixSample[] = [];
  private tracker: TrackerState = INITIAL_TRACKER_STATE;
  private motion: MotionState = INITIAL_MOTION;
  private held: Track[] = [];
  private reported: ReportedSpot[] = [];
  private lastFrameMs: number | null = null;
  private cameras = new Map<string, Pinhole>();
  private counters: Omit<FusionStats, 'tracksOpen' | 'tracksHeld' | 'stationary' | 'fixesKept'> = {
    frames: 0,
    framesWithoutPosition: 0,
    framesWhileStationary: 0,
    framesOutOfOrder: 0,
    detections: 0,
    detectionsOffRoad: 0,
    detectionsCrossClass: 0,
    detectionsWhileStationary: 0,
    eventsEmitted: 0,
    suppressedTooFewHits: 0,
    suppressedStuckToVehicle: 0,
    suppressedDuplicates: 0,
    droppedNoPosition: 0,
    gps: 'no-fix',
    lastFixAgeMs: null,
  };

  constructor(options: FusionOptions) {
    this.config = resolveFusionConfig(options);
  }

  /** Fixes of mode < 2 carry no position and are ignored; fixes may arrive out of order. */
  onFix(fix: FixSample): void {
    const newest = this.fixes[this.fixes.length - 1];
    // The usual case, a newer fix, appends in place: the history is ours alone.
    if (isUsableFix(fix) && (!newest || fix.tMs > newest.tMs)) this.fixes.push(fix);
    else this.fixes = addFix(this.fixes, fix);
    this.pruneFixes(fix.tMs);
  }

  /** Events become ready here: when a track has ended and its position is settled (see holdForFixMs). */
  onFrame(input: FrameInput): EventBodyInput[] {
    if (this.lastFrameMs !== null && input.tMs < this.lastFrameMs) {
      this.counters.framesOutOfOrder++;
      return [];
    }
    this.lastFrameMs = input.tMs;
    this.counters.frames++;
    this.counters.detections += input.detections.length;
    const pose = this.poseAtFrame(input.tMs);
    this.motion = updateMotion(this.motion, input.tMs, pose?.speedKmh ?? null, this.config.motion);
    if (this.motion.stationary) {
      // Tracks are frozen, not aged: the defect in front of a car waiting at a light is the same one
      // when it drives on, and nothing is re-detected while it waits.
      this.counters.framesWhileStationary++;
      this.counters.detectionsWhileStationary += input.detections.length;
      this.pruneFixes(input.tMs);
      return this.release(input.tMs, false);
    }
    const cam = this.camera(input.frame);
    const nearest = groundPointAt(cam, cam.cx, input.frame.h);
    const result = step(
      this.tracker,
      { tMs: input.tMs, clock: input.clock, frame: input.frame, detections: this.placeOnRoad(cam, input.detections), pose, nearestVisibleM: nearest?.zM ?? null },
      this.config.tracker,
    );
    this.absorb(result);
    const events = this.release(input.tMs, false);
    this.pruneFixes(input.tMs);
    return events;
  }

  /** End of drive or stop: every open track meeting its hit threshold becomes an event now. */
  flush(): EventBodyInput[] {
    this.absorb(flushTracks(this.tracker, this.config.tracker));
    return this.release(this.lastFrameMs ?? 0, true);
  }

  stats(): FusionStats {
    return {
      ...this.counters,
      tracksOpen: this.tracker.tracks.length,
      tracksHeld: this.held.length,
      stationary: this.motion.stationary,
      fixesKept: this.fixes.length,
    };
  }

  private poseAtFrame(tMs: number): VehiclePose | null {
    const result = poseAt(this.fixes, tMs, this.config.position);
    const newest = this.fixes[this.fixes.length - 1];
    this.counters.lastFixAgeMs = newest ? tMs - newest.tMs : null;
    if (!result.ok) {
      this.counters.framesWithoutPosition++;
      this.counters.gps = result.reason;
      return null;
    }
    this.counters.gps = result.pose.method === 'degraded' ? 'degraded' : 'ok';
    return result.pose;
  }

  private placeOnRoad(cam: Pinhole, detections: readonly Detection[]): ObservedDetection[] {
    const observed: ObservedDetection[] = [];
    for (const detection of this.oneClassPerBox(detections)) {
      const ground = projectBox(cam, detection.box, this.config.projection);
      if (!ground || ground.near.zM > this.config.projection.maxRangeM) {
        this.counters.detectionsOffRoad++;
        continue;
      }
      observed.push({ class: detection.class, confidence: detection.confidence, box: detection.box, ground });
    }
    return observed;
  }

  /**
   * The detector's NMS is per class, so one defect can come out as two boxes of different classes
   * (an alligator patch as D20 and D40, a stretch of a long crack as D20): when one box lies mostly
   * inside the other, only the more confident stays, or each would become an event a few metres apart.
   */
  private oneClassPerBox(detections: readonly Detection[]): Detection[] {
    if (detections.length < 2) return [...detections];
    const kept: Detection[] = [];
    for (const detection of [...detections].sort((a, b) => b.confidence - a.confidence)) {
      if (kept.some((k) => k.class !== detection.class && overlapOfSmaller(k.box, detection.box) >= this.config.crossClassOverlap)) this.counters.detectionsCrossClass++;
      else kept.push(detection);
    }
    return kept;
  }

  private absorb(result: StepResult): void {
    this.tracker = result.state;
    this.counters.suppressedTooFewHits += result.discarded.tooFewHits;
    this.counters.suppressedStuckToVehicle += result.discarded.stuckToVehicle;
    for (const finished of result.finished) this.held.push(finished.track);
  }

  /**
   * Positions held tracks whose time has come: a fix at or after the last hit has arrived (so every
   * hit is interpolated), or holdForFixMs has passed (dead reckoning by the policy), or a flush.
   */
  private release(nowMs: number, force: boolean): EventBodyInput[] {
    const newestFixMs = this.fixes[this.fixes.length - 1]?.tMs ?? -Infinity;
    const events: EventBodyInput[] = [];
    const waiting: Track[] = [];
    for (const track of this.held) {
      const lastHitMs = track.hits[track.hits.length - 1]!.tMs;
      if (!force && newestFixMs < lastHitMs && nowMs - lastHitMs < this.config.holdForFixMs) {
        waiting.push(track);
        continue;
      }
      const defect = summarizeTrack(track, (hit) => this.settledPose(hit.tMs, hit.pose), {
        ...this.config.summary,
        lensAheadOfAntennaM: this.config.camera.forwardM ?? 0,
      });
      if (!defect) this.counters.droppedNoPosition++;
      else if (this.isDuplicate(defect)) this.counters.suppressedDuplicates++;
      else {
        events.push(toEventBody(defect, this.config.model));
        this.counters.eventsEmitted++;
      }
    }
    this.held = waiting;
    return events;
  }

  /** The pose from the GPS track as known now, unless the one known at frame time was better (history pruned). */
  private settledPose(tMs: number, provisional: VehiclePose | null): VehiclePose | null {
    const now = poseAt(this.fixes, tMs, this.config.position);
    if (!now.ok) return provisional;
    if (provisional && METHOD_RANK[provisional.method] < METHOD_RANK[now.pose.method]) return provisional;
    return now.pose;
  }

  private isDuplicate(defect: TrackedDefect): boolean {
    const spot: ReportedSpot = { class: defect.class, lat: defect.lat, lon: defect.lon, tMs: defect.tMs };
    if (isAlreadyReported(this.reported, spot, this.config.dedupe)) return true;
    this.reported = rememberSpot(this.reported, spot, this.config.dedupe);
    return false;
  }

  /**
   * Keeps fixHistoryMs of GPS history and whatever open and held tracks still need to settle their
   * hits' poses, within maxFixes. Cuts in steps of a tenth of the history so it is not sliced per fix.
   */
  private pruneFixes(nowMs: number): void {
    let keepFromMs = nowMs - this.config.fixHistoryMs;
    for (const track of [...this.tracker.tracks, ...this.held]) keepFromMs = Math.min(keepFromMs, track.hits[0]!.tMs - this.config.position.maxAgeMs);
    const oldest = this.fixes[0];
    if (oldest && oldest.tMs < keepFromMs - this.config.fixHistoryMs / 10) this.fixes = pruneFixes(this.fixes, keepFromMs);
    if (this.fixes.length > this.config.maxFixes) this.fixes = this.fixes.slice(this.fixes.length - this.config.maxFixes);
  }

  private camera(image: ImageSize): Pinhole {
    const key = `${image.w}x${image.h}`;
    let cam = this.cameras.get(key);
    if (!cam) {
      cam = pinhole(this.config.camera, image);
      this.cameras.set(key, cam);
    }
    return cam;
  }
}

const METHOD_RANK: Record<PoseMethod, number> = { interpolated: 0, extrapolated: 1, degraded: 2 };

export type { CameraGeometry, ImageSize, GroundPoint } from './camera-geometry.js';
export type { FusionConfig, FusionOptions, ProjectionConfig } from './config.js';
export { resolveFusionConfig } from './config.js';
export type { FixSample, PositionPolicy, VehiclePose, PoseResult } from './interpolate.js';
export { fixSampleFromGps, type GpsFixFields } from './fix-sample.js';
export { poseAt } from './interpolate.js';
export type { TrackedDefect } from './summarize.js';
export { toEventBody } from './to-event.js';
