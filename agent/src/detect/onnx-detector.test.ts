import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../config/schema.js';
import type { Detector } from './detector.js';
import { DetectError, ModelError } from './errors.js';
import { createOnnxDetector, type DetectorConfig } from './onnx-detector.js';
import { solidJpeg } from './testing/images.js';
import { spawnInferenceWorker, spawnModuleWorker } from './worker-spawn.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./testing/fixtures/${name}`, import.meta.url));

function config(overrides: Partial<DetectorConfig> = {}): DetectorConfig {
  const base = AgentConfigSchema.shape.detector.parse({});
  return { ...base, modelPath: fixture('yolov8-fixed.onnx'), threads: 1, ...overrides };
}

function recordingLogger() {
  const lines: Array<{ level: string; obj: unknown; msg: string }> = [];
  const log = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg: msg ?? '' });
  return { lines, logger: { info: log('info'), warn: log('warn') } as never };
}

const open: Detector[] = [];
async function make(overrides: Partial<DetectorConfig> = {}, extra: { spawnWorker?: () => Worker } = {}) {
  const rec = recordingLogger();
  const detector = await createOnnxDetector(config(overrides), { logger: rec.logger, ...extra });
  open.push(detector);
  return { detector, ...rec };
}
afterAll(async () => {
  await Promise.all(open.map((d) => d.close()));
});

describe('OnnxDetector on fixed-output fixtures', () => {
  it('decodes the YOLOv8 fixture into frame boxes: thresholds, class-aware NMS, clipping', async () => {
    const { detector, lines } = await make();
    expect(detector.info).toMatchObject({
      model: 'fixture-v8@1',
      classes: ['D00', 'D10', 'D20', 'D40'],
      input: { width: 320, height: 320 },
      layout: 'yolov8',
      provider: 'cpu',
      threads: 1,
    });
    expect(detector.info.sha256).toBe(createHash('sha256').update(readFileSync(fixture('yolov8-fixed.onnx'))).digest('hex'));
    expect(lines.find((l) => l.msg === 'detector ready')).toBeDefined();

    const result = await detector.detect(await solidJpeg(1280, 720));
    expect(result.frame).toEqual({ w: 1280, h: 720 });
    // See make-fixtures.py: letterbox scale 1/4, 70 px pad top.
    expect(result.detections).toEqual([
      { class: 'D40', classIndex: 3, confidence: expect.closeTo(0.9, 5), box: [560, 320, 720, 400] },
      { class: 'D00', classIndex: 0, confidence: expect.closeTo(0.5, 5), box: [560, 320, 720, 400] },
      { class: 'D20', classIndex: 2, confidence: expect.closeTo(0.4, 5), box: [0, 40, 200, 200] },
    ]);
    for (const ms of Object.values(result.timings)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(detector.latency()).toMatchObject({ count: 1, failures: 0 });
    expect(detector.latency().p50Ms).toBeGreaterThan(0);
  });

  it('decodes the YOLOv5 fixture (obj × cls) and applies per-class thresholds and maxDetections', async () => {
    const { detector } = await make({ modelPath: fixture('yolov5-fixed.onnx'), classConfidence: { D20: 0.5 }, maxDetections: 1 });
    expect(detector.info.layout).toBe('yolov5');
    expect(detector.info.model).toMatch(/^yolov5-fixed@[0-9a-f]{12}$/);
    const { detections } = await detector.detect(await solidJpeg(640, 360));
    expect(detections).toEqual([{ class: 'D40', classIndex: 3, confidence: expect.closeTo(0.855, 4), box: [280, 160, 360, 200] }]);
  });

  it('renames classes from config when the count matches', async () => {
    const { detector } = await make({ classes: ['crack-long', 'crack-trans', 'alligator', 'pothole'] });
    const { detections } = await detector.detect(await solidJpeg(1280, 720));
    expect(detections.map((d) => d.class)).toEqual(['pothole', 'crack-long', 'alligator']);
  });

  it('falls back to cpu when cuda or tensorrt is missing from the binding, and says so', async () => {
    for (const provider of ['cuda', 'tensorrt'] as const) {
      const { detector, lines } = await make({ provider });
      expect(detector.info.provider).toBe('cpu');
      const warning = lines.find((l) => l.level === 'warn');
      expect(warning?.msg).toBe(`execution provider ${provider} is not available in this onnxruntime-node binding; using cpu`);
      expect(warning?.obj).toMatchObject({ requested: provider, using: 'cpu', reason: expect.stringMatching(/Failed to load shared library/) });
      expect((await detector.detect(await solidJpeg(320, 320))).detections).toHaveLength(3);
    }
  });
});

describe('bad model', () => {
  it('missing file', async () => {
    await expect(make({ modelPath: '/nonexistent/models/model.onnx' })).rejects.toThrow(
      new ModelError('model file /nonexistent/models/model.onnx not found', 'set detector.modelPath / ROADWATCH_MODEL or reinstall models/'),
    );
  });

  it('corrupt ONNX → ORT’s message', async () => {
    const error = await make({ modelPath: fixture('corrupt.onnx') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as Error).message).toMatch(/^cannot load model .*corrupt\.onnx: .*Protobuf parsing failed.* — the file is not a complete ONNX model/);
  });

  it('output matching neither layout', async () => {
    await expect(make({ modelPath: fixture('weird-shape.onnx') })).rejects.toThrow(
      /^model output \[1,7,7\] matches neither YOLOv5 \[1,N,5\+nc\] nor YOLOv8 \[1,4\+nc,N\] — export with ultralytics/,
    );
  });

  it('class list that disagrees with the model', async () => {
    await expect(make({ classes: ['crack', 'pothole', 'patch'] })).rejects.toThrow(
      "detector.classes lists 3 classes but the model has 4 (output [1,8,6], yolov8 layout, metadata names D00, D10, D20, D40) — list exactly 4 class names in detector.classes, or remove it to use the model's own names",
    );
  });

  it('per-class threshold for an unknown class', async () => {
    await expect(make({ classConfidence: { pothole: 0.5 } })).rejects.toThrow(ModelError);
  });
});

describe('failures while running', () => {
  it('a failing inference rejects that frame only, is counted, and the detector keeps working', async () => {
    const { detector } = await make();
    // A pure-white pixel makes the fixture's Gather index run out of range inside ORT.
    const white = await solidJpeg(320, 320, [255, 255, 255]);
    const error = await detector.detect(white).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectError);
    expect((error as Error).message).toMatch(/^inference failed: .*Gather.*out of data bounds/);
    expect((await detector.detect(await solidJpeg(1280, 720))).detections).toHaveLength(3);
    expect(detector.latency()).toMatchObject({ count: 1, failures: 1 });
  });

  it('bad images reject with DetectError and count as failures', async () => {
    const { detector } = await make();
    await expect(detector.detect(Buffer.alloc(0))).rejects.toThrow(/empty image/);
    await expect(detector.detect(Buffer.from('nope'))).rejects.toThrow(/not an image/);
    expect(detector.latency().failures).toBe(2);
    expect((await detector.detect(await solidJpeg(100, 100))).detections.length).toBeGreaterThan(0);
  });

  it('a worker that dies with a frame in it rejects that frame; a new worker serves the next one', async () => {
    const workers: Worker[] = [];
    // First worker: the real one, crashing when its 2nd frame arrives (the 1st is the warm-up run).
    const spawnWorker = (): Worker => {
      const worker = workers.length
        ? spawnInferenceWorker()
        : spawnModuleWorker(new URL('./testing/crash-worker.ts', import.meta.url), { workerData: { crashOnRun: 2 } });
      workers.push(worker);
      return worker;
    };
    const { detector, lines } = await make({}, { spawnWorker });
    expect(workers).toHaveLength(1);
    const frame = await solidJpeg(1280, 720);
    const error = await detector.detect(frame).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DetectError);
    expect((error as Error).message).toBe(
      'inference worker stopped (exit code 1: simulated inference worker crash) during this frame; it is restarted for the next frame',
    );
    expect(lines.some((l) => l.level === 'warn' && l.msg === 'inference worker died; restarting it')).toBe(true);

    const next = await detector.detect(frame);
    expect(next.detections).toHaveLength(3);
    expect(workers).toHaveLength(2);
    expect(detector.latency()).toMatchObject({ count: 1, failures: 1 });
  });

  it('keeps the event loop free while the worker is busy (slow model)', async () => {
    const { detector } = await make({ modelPath: fixture('yolov8-slow.onnx') });
    const frame = await solidJpeg(1280, 720);
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    let inferenceMs = 0;
    for (let i = 0; i < 5; i++) inferenceMs += (await detector.detect(frame)).timings.inferenceMs;
    histogram.disable();
    const p99 = histogram.percentile(99) / 1e6;
    expect(inferenceMs / 5).toBeGreaterThan(50); // the work was real…
    expect(p99).toBeLessThan(40); // …and the loop never waited for it (5 ms sampling; spare margin for a busy CI box)
  });

  it('a model that disappears while its worker is down gives a clear error, then recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-detect-'));
    try {
      const path = join(dir, 'model.onnx');
      copyFileSync(fixture('yolov8-fixed.onnx'), path);
      let spawned = 0;
      const spawnWorker = (): Worker =>
        spawned++ ? spawnInferenceWorker() : spawnModuleWorker(new URL('./testing/crash-worker.ts', import.meta.url), { workerData: { crashOnRun: 2 } });
      const { detector } = await make({ modelPath: path }, { spawnWorker });
      await expect(detector.detect(await solidJpeg(64, 64))).rejects.toThrow(/simulated inference worker crash/);
      rmSync(path);
      await expect(detector.detect(await solidJpeg(64, 64))).rejects.toThrow(/^cannot restart the inference worker \(.*File doesn't exist\) — check the model file/);
      copyFileSync(fixture('yolov8-fixed.onnx'), path);
      expect((await detector.detect(await solidJpeg(64, 64))).detections).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('close() lets the frame in flight finish, stops the worker, and later calls reject', async () => {
    const { detector } = await make({ modelPath: fixture('yolov8-slow.onnx') });
    const inFlight = detector.detect(await solidJpeg(64, 64));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the frame is inside session.run now
    await detector.close();
    expect((await inFlight).detections).toHaveLength(3);
    await expect(detector.detect(await solidJpeg(64, 64))).rejects.toThrow('detector is closed');
  });
});
