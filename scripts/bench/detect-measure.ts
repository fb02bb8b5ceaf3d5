// Measurement for bench:detect: the agent's detect step against bare session.run, for one thread count.
import ort from 'onnxruntime-node';
import pino from 'pino';
import { createOnnxDetector, preprocess, type DetectTimings, type Detector, type DetectorConfig, type DetectorInfo } from '../../agent/src/detect/index.js';

/**
 * Event-loop delay: how late a 5 ms timer fires, sampled only while a phase runs (perf_hooks'
 * monitorEventLoopDelay cannot be paused between the interleaved phases without counting the pause).
 */
export class DelaySampler {
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

  async during(body: () => Promise<void>): Promise<void> {
    this.start();
    try {
      await body();
    } finally {
      this.stop();
    }
  }
}

export interface Measured {
  info: DetectorInfo;
  threads: number;
  timings: DetectTimings[];
  /** Wall time of each sequential detect() call. */
  detectMs: number[];
  /** Wall time of each bare session.run. */
  runMs: number[];
  streamFrames: number;
  streamMs: number;
  delay: { detect: DelaySampler; stream: DelaySampler; reference: DelaySampler };
}

export interface MeasureOptions {
  config: DetectorConfig;
  jpeg: Buffer;
  runs: number;
  warmup: number;
  rounds: number;
}

/**
 * Interleaved rounds of: detect() one frame at a time; bare session.run on the same preprocessed
 * input on this thread (same session options as the engine's worker); detect() as a camera stream,
 * two frames in flight, so the next frame's decode and letterbox overlap the worker's inference.
 */
export async function measure({ config, jpeg, runs, warmup, rounds }: MeasureOptions): Promise<Measured> {
  const detector = await createOnnxDetector(config, { logger: pino({ level: 'warn' }) });
  const { info } = detector;
  const session = await ort.InferenceSession.create(config.modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: config.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });
  const input = new Float32Array(3 * info.input.width * info.input.height);
  await preprocess(jpeg, info.input, input, { maxPixels: config.maxPixels });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, info.input.height, info.input.width]) };

  const m: Measured = {
    info,
    threads: config.threads,
    timings: [],
    detectMs: [],
    runMs: [],
    streamFrames: 0,
    streamMs: 0,
    delay: { detect: new DelaySampler(), stream: new DelaySampler(), reference: new DelaySampler() },
  };
  const sequential = async (n: number, record: boolean) => {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const result = await detector.detect(jpeg);
      if (record) {
        m.detectMs.push(performance.now() - t);
        m.timings.push(result.timings);
      }
    }
  };
  const reference = async (n: number, record: boolean) => {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await session.run(feeds);
      if (record) m.runMs.push(performance.now() - t);
      await new Promise<void>((resolve) => setImmediate(resolve)); // let the delay sampler see the loop between runs
    }
  };
  const stream = async (d: Detector, n: number, depth = 2) => {
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
  };

  try {
    await sequential(warmup, false);
    await reference(warmup, false);
    await stream(detector, warmup);
    const perRound = Math.ceil(runs / rounds);
    for (let r = 0; r < rounds; r++) {
      await m.delay.detect.during(() => sequential(perRound, true));
      await m.delay.reference.during(() => reference(perRound, true));
      await m.delay.stream.during(async () => {
        m.streamMs += await stream(detector, perRound);
        m.streamFrames += perRound;
      });
    }
  } finally {
    await detector.close();
    await session.release();
  }
  return m;
}

export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function rates(m: Measured): { detectFps: number; streamFps: number; runFps: number } {
  return {
    detectFps: (m.detectMs.length / sum(m.detectMs)) * 1000,
    streamFps: (m.streamFrames / m.streamMs) * 1000,
    runFps: (m.runMs.length / sum(m.runMs)) * 1000,
  };
}
