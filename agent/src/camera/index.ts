import type { CameraConfig } from '../config/schema.js';
import { FfmpegCamera, type FfmpegCameraDeps } from './ffmpeg-camera.js';
import type { FrameSource } from './frame-source.js';

export type { CameraState, CameraStatus, Frame, FrameSink, FrameSource } from './frame-source.js';
export { FfmpegCamera, type FfmpegCameraDeps } from './ffmpeg-camera.js';
export { cameraName, dropsFrames, ffmpegPlan, isRecorded, producerFor, type CameraSettings, type FfmpegPlan, type Producer } from './ffmpeg-args.js';
export type { SpawnFn } from './child.js';

export type CameraDeps = FfmpegCameraDeps;

/** The camera for a config: every source goes through ffmpeg (see docs/CAMERA.md). */
export function createCamera(config: CameraConfig, deps: CameraDeps): FrameSource {
  return new FfmpegCamera(config, deps);
}
