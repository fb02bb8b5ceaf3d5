// npm run bench:detect [-- --runs 200 --warmup 20 --model PATH --threads N --no-write]
//
// The agent's detect step on a 1280×720 road-scene JPEG: preprocess / inference / postprocess
// p50 and p95, frames/s of detector.detect() against bare session.run on the same preprocessed input
// in the same run (onnxruntime-node on the main thread, same session options and thread count), and
// the event-loop delay while detecting.
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import pino from 'pino';
import { AgentConfigSchema } from '../../agent/src/config/schema.js';
import { createOnnxDetector, preprocess, type DetectTimings, type Detector } from '../../agent/src/detect/index.js';
import { defaultModelPath } from '../../agent/src/detect/model-path.js';
import { potholeFixture } from '../../models/scene/fixtures.js';
import { fmt, table, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '4' },
    model: { type: 'string' },
    threads: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const rounds = Math.max(1, Number(values.rounds));
const perRound = Math.ceil(runs / rounds);
const RATIO_TARGET = 0.9;
const DELAY_TARGET_MS = 20;

const base = AgentConfigSchema.shape.detector.parse({});
const config = { ...base, modelPath: values.model ?? defaultModelPath(), threads: values.threads ? Number(values.threads) : base.threads };
const { jpeg, labels } = await potholeFixture(); // 1280×720, one pothole 8 m ahead, JPEG quality 90
const detector = await createOnnxDetector(config, { logger: pino({ level: 'warn' }) });
const { info } = detector;

// The reference: the same model, same session options as the engine's worker, on this thread.
const session = await ort.InferenceSession.create(config.modelPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: config.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  logSeverityLevel: 3,
});
const dims = [1, 3, info.input.height, info.input.width];
const input = new Float32Array(3 * info.input.width * info.input.height);
await preprocess(jpeg, info.input, input, { maxPixels: config.maxPixels });
const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) };

const timings: DetectTimings[] = [];
const detectWall: number[] = [];
const runWall: number[] = [];
let pipelinedFrames = 0;
let pipelinedMs = 0;

/**
 * Event-loop delay: how late a 5 ms timer fires, sampled only while a phase runs (perf_hooks'
 * monitorEventLoopDelay cannot be paused between the interleaved phases without counting the pause).
 */
class DelaySampler {
  readonly samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  start(periodMs = 5): void {
    const tick = () => {
      this.samples.push(Math.max(0, performance.now() - this.due));
      this.due = performance.now() + periodMs;
      this.timer = setTimeout(tick, periodMs);
    };
    this.due = performance.now() + periodMs;
    this.timer = setTimeout(tick, periodMs);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}
const delayDetect = new DelaySampler();
const delayPipelined = new DelaySampler();
const delayReference = new DelaySampler();

async function sequential(n: number, record: boolean): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const result = await detector.detect(jpeg);
    if (record) {
      detectWall.push(performance.now() - t);
      timings.push(result.timings);
    }
  }
}

/** A camera stream: the next frame's decode and letterbox run while the worker infers this one. */
async function pipelined(d: Detector, n: number, depth = 2): Promise<number> {
  const t = performance.now();
  let issued = 0;
  const lane = async () => {
    while (issued < n) {
      issued++;
      await d.detect(jpeg);
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return performance.now() - t;
}

async function reference(n: number, record: boolean): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await session.run(feeds);
    if (record) runWall.push(performance.now() - t);
    await new Promise<void>((resolve) => setImmediate(resolve)); // let the delay monitor sample between runs
  }
}

async function measured(sampler: DelaySampler, body: () => Promise<void>): Promise<void> {
  sampler.start();
  try {
    await body();
  } finally {
    sampler.stop();
  }
}

console.log(`detect benchmark: ${info.model} (${info.input.width}×${info.input.height}, ${info.layout}) on the 1280×720 pothole fixture JPEG (${(jpeg.length / 1024).toFixed(0)} KiB, ${labels.length} labelled defect), ${config.threads} ORT threads, ${runs} runs in ${rounds} interleaved rounds after ${warmup} warm-up`);
await sequential(warmup, false);
await reference(warmup, false);
await pipelined(detector, warmup);
for (let r = 0; r < rounds; r++) {
  await measured(delayDetect, () => sequential(perRound, true));
  await measured(delayReference, () => reference(perRound, true));
  await measured(delayPipelined, async () => {
    pipelinedMs += await pipelined(detector, perRound);
    pipelinedFrames += perRound;
  });
}
await detector.close();
await session.release();

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const fps = (n: number, ms: number) => (n / ms) * 1000;
const pre = timings.map((t) => t.preprocessMs);
const inf = timings.map((t) => t.inferenceMs);
const post = timings.map((t) => t.postprocessMs);
const detectFps = fps(detectWall.length, sum(detectWall));
const streamFps = fps(pipelinedFrames, pipelinedMs);
const runFps = fps(runWall.length, sum(runWall));
const p99 = (d: DelaySampler) => pct(d.samples, 0.99);
const max = (d: DelaySampler) => Math.max(0, ...d.samples);
const met = (ok: boolean) => (ok ? 'met' : 'MISSED');

const phases = table([
  { phase: 'preprocess (decode + letterbox, sharp)', 'p50 ms': fmt(pct(pre, 0.5), 1), 'p95 ms': fmt(pct(pre, 0.95), 1) },
  { phase: 'inference (worker round trip)', 'p50 ms': fmt(pct(inf, 0.5), 1), 'p95 ms': fmt(pct(inf, 0.95), 1) },
  { phase: 'postprocess (decode, NMS, boxes)', 'p50 ms': fmt(pct(post, 0.5), 2), 'p95 ms': fmt(pct(post, 0.95), 2) },
  { phase: 'whole detect() step', 'p50 ms': fmt(pct(detectWall, 0.5), 1), 'p95 ms': fmt(pct(detectWall, 0.95), 1) },
  { phase: 'bare session.run (reference)', 'p50 ms': fmt(pct(runWall, 0.5), 1), 'p95 ms': fmt(pct(runWall, 0.95), 1) },
]);
const rates = table([
  { measure: 'detect(), one frame at a time', 'frames/s': fmt(detectFps, 1), 'ratio to session.run': (detectFps / runFps).toFixed(2), note: 'latency view: preprocess + inference + postprocess in series' },
  { measure: 'detect(), camera stream (2 frames in flight)', 'frames/s': fmt(streamFps, 1), 'ratio to session.run': (streamFps / runFps).toFixed(2), note: `next frame preprocessed while the worker infers; target ≥ ${RATIO_TARGET}: ${met(streamFps / runFps >= RATIO_TARGET)}` },
  { measure: 'bare session.run, same input, main thread', 'frames/s': fmt(runFps, 1), 'ratio to session.run': '1.00', note: 'reference, same session options and threads' },
]);
const delays = table([
  { while: 'detect(), one at a time', 'event-loop delay p99 ms': fmt(p99(delayDetect), 1), 'max ms': fmt(max(delayDetect), 1), note: `target < ${DELAY_TARGET_MS}: ${met(p99(delayDetect) < DELAY_TARGET_MS)}` },
  { while: 'detect(), camera stream', 'event-loop delay p99 ms': fmt(p99(delayPipelined), 1), 'max ms': fmt(max(delayPipelined), 1), note: `target < ${DELAY_TARGET_MS}: ${met(p99(delayPipelined) < DELAY_TARGET_MS)}` },
  { while: 'session.run on the main thread (what the worker avoids)', 'event-loop delay p99 ms': fmt(p99(delayReference), 1), 'max ms': fmt(max(delayReference), 1), note: 'for contrast' },
]);
const body = [
  `${info.model} (sha256 \`${info.sha256.slice(0, 12)}\`, ${info.input.width}×${info.input.height} input, ${info.layout} layout), ${info.provider} provider, ${config.threads} ORT threads, on the renderer's 1280×720 pothole fixture JPEG (${(jpeg.length / 1024).toFixed(0)} KiB). ${runs} measured runs of each kind in ${rounds} interleaved rounds after ${warmup} warm-up runs; ${cpus().length} CPUs, load average at the end ${loadavg().map((n) => n.toFixed(1)).join(' ')}.`,
  '',
  phases,
  '',
  rates,
  '',
  delays,
].join('\n');
console.log(`\n${body}`);
if (!values['no-write']) writeSection('detect', 'Detector: detect step (bench:detect)', body);
