import { createCamera } from '../camera/index.js';
import type { Frame } from '../camera/frame-source.js';
import { fail, pass, skip, splitHint, warn, sleep, type DoctorContext, type Outcome } from './types.js';

const ID = 'camera';
/** After the first frame, frames are counted this long (or up to MAX_FRAMES) to measure the rate. */
const MEASURE_MS = 2_000;
const MAX_FRAMES = 8;
const NO_CAMERA_HINT = 'set "camera" in the config (docs/CAMERA.md); without it the service only syncs';

/** Opens the camera (ffmpeg), grabs frames, measures size and rate; asks the service instead when it runs. */
export async function checkCamera(ctx: DoctorContext): Promise<Outcome> {
  if (ctx.service) return fromService(ctx);
  if (!ctx.field) return skip(ID, 'not checked: the config is invalid');
  const settings = ctx.field.camera;
  if (!settings) return warn(ID, 'no camera configured', NO_CAMERA_HINT);
  const camera = createCamera(settings, { logger: ctx.logger });
  // The first and the newest frame, and how many came (no frame is kept besides those two).
  const frames = { count: 0, first: null as Frame | null, last: null as Frame | null };
  let failure: string | null = null;
  camera.onStatus((s) => {
    if (s.state === 'fault' || s.state === 'stalled') failure ??= s.message;
  });
  const started = ctx.mono();
  try {
    try {
      await camera.start((frame) => {
        frames.count += 1;
        frames.first ??= frame;
        frames.last = frame;
      });
    } catch (error) {
      const { detail, hint } = splitHint((error as Error).message);
      return fail(ID, detail, hint);
    }
    const limit = started + ctx.timeoutMs - 500;
    while (failure === null && ctx.mono() < limit) {
      if (frames.count >= MAX_FRAMES) break;
      if (frames.first && ctx.mono() - frames.first.monoMs >= MEASURE_MS) break;
      if (camera.status().state === 'ended') break;
      await sleep(25);
    }
  } finally {
    await camera.stop();
  }
  const status = camera.status();
  const { first, last, count } = frames;
  if (!first || !last) {
    const { detail, hint } = splitHint(failure ?? status.lastError ?? `camera ${camera.name}: no frame within ${(ctx.timeoutMs / 1000).toFixed(0)} s`);
    return fail(ID, detail, hint ?? 'a network camera may need longer: --timeout 30; otherwise check it with roadwatch camera', { camera: camera.name });
  }
  ctx.frame = last;
  const span = (last.monoMs - first.monoMs) / 1000;
  const fps = count > 1 && span > 0 ? (count - 1) / span : null;
  const data = { camera: camera.name, width: last.width, height: last.height, frames: count, fps: fps === null ? null : Math.round(fps * 100) / 100, configuredFps: settings.fps, firstFrameMs: Math.round(first.monoMs - started) };
  const detail = `${camera.name}: first frame after ${((first.monoMs - started) / 1000).toFixed(1)} s, ${last.width}×${last.height}, ${fps === null ? 'one frame' : `${fps.toFixed(1)} fps measured`} (${settings.fps} configured)`;
  if (failure) return warn(ID, `${detail}, then: ${splitHint(failure).detail}`, splitHint(failure).hint ?? 'check it with roadwatch camera --frames 50', data);
  if (fps !== null && count >= 4 && fps < settings.fps / 2) {
    return warn(ID, `${detail}: the camera delivers fewer frames than asked`, 'dim light (long exposure), USB bandwidth or a weak network; or lower camera.fps', data);
  }
  return pass(ID, detail, data);
}

function fromService(ctx: DoctorContext): Outcome {
  const camera = ctx.service!.camera;
  if (!camera) return warn(ID, 'the service runs without a camera (none configured)', NO_CAMERA_HINT);
  const data = { camera: camera.name, width: camera.width, height: camera.height, fps: camera.fps, configuredFps: camera.configuredFps, framesIn: camera.framesIn, framesDropped: camera.framesDropped, fromService: true };
  const fps = camera.fps === null ? 'fps not measured yet' : `${camera.fps.toFixed(1)} fps over the last ${camera.fpsWindowS} s`;
  const detail = `${camera.name} (read by the service): ${camera.width}×${camera.height}, ${fps}, ${camera.framesIn} frames, ${camera.framesDropped} dropped for a busy detector`;
  if (camera.state === 'ok') return pass(ID, detail, data);
  const { detail: why, hint } = splitHint(camera.message);
  if (camera.state === 'starting') return warn(ID, `${why} (no frame yet)`, hint ?? 'wait a few seconds and run doctor again', data);
  return fail(ID, why, hint ?? 'see journalctl -u roadwatch-agent', data);
}
