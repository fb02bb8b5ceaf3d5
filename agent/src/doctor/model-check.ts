import { percentile } from '../detect/latency.js';
import type { Detector } from '../detect/detector.js';
import { fail, pass, skip, splitHint, warn, type DoctorContext, type Outcome } from './types.js';

const ID = 'model';
const RUNS = 10;

/** Loads the model in its worker and times 10 inferences (on the camera's frame when the camera check got one). */
export async function checkModel(ctx: DoctorContext): Promise<Outcome> {
  if (!ctx.field) return skip(ID, 'not checked: the config is invalid');
  const config = ctx.field.detector;
  let detector: Detector;
  const started = ctx.mono();
  try {
    const { createOnnxDetector } = await import('../detect/onnx-detector.js'); // onnxruntime only when checked
    detector = await createOnnxDetector(config, { logger: ctx.logger });
  } catch (error) {
    const { detail, hint } = splitHint((error as Error).message);
    return fail(ID, detail, hint ?? 'check the onnxruntime-node install for this platform (npm ls onnxruntime-node)', { modelPath: config.modelPath });
  }
  const loadMs = ctx.mono() - started;
  try {
    const camera = ctx.field.camera;
    const image = ctx.frame ?? { rgb: Buffer.alloc((camera?.width ?? 640) * (camera?.height ?? 360) * 3, 96), width: camera?.width ?? 640, height: camera?.height ?? 360 };
    const input = { data: image.rgb, width: image.width, height: image.height, channels: 3 as const };
    await detector.detect(input); // warm-up (first run allocates)
    const times: number[] = [];
    let found = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = ctx.mono();
      const result = await detector.detect(input);
      times.push(ctx.mono() - t0);
      found += result.detections.length;
    }
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 0.5);
    const p95 = percentile(times, 0.95);
    const info = detector.info;
    const on = ctx.frame ? `the camera's ${image.width}×${image.height} frame` : `a blank ${image.width}×${image.height} image`;
    const data = { model: info.model, modelPath: info.modelPath, provider: info.provider, threads: info.threads, loadMs: Math.round(loadMs), runs: RUNS, p50Ms: round(p50), p95Ms: round(p95), detections: found };
    const detail = `${info.model} loaded in ${(loadMs / 1000).toFixed(1)} s (${info.provider} ×${info.threads}); ${RUNS} inferences on ${on}: p50 ${round(p50)} ms, p95 ${round(p95)} ms`;
    const fps = camera?.fps;
    if (fps !== undefined && p50 > 2000 / fps) {
      return warn(ID, `${detail} — at most ${(1000 / p50).toFixed(1)} of the ${fps} frames a second get detected`, 'lower camera.fps, set detector.threads to CPUs − 1, or use a GPU provider (detector.provider)', data);
    }
    return pass(ID, detail, data);
  } catch (error) {
    const { detail, hint } = splitHint((error as Error).message);
    return fail(ID, `the model loaded but inference failed: ${detail}`, hint ?? 'check the model file (roadwatch detect IMAGE runs it on a picture)');
  } finally {
    await detector.close();
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
