import { basename, extname } from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import { classThresholds, detectLayout, type LayoutInfo } from './decode.js';
import type { DetectResult, Detector, DetectorInfo, ImageInput, LatencySummary } from './detector.js';
import { DetectError, ModelError } from './errors.js';
import { LatencyWindow } from './latency.js';
import { yoloMetadata, type YoloMetadata } from './metadata.js';
import { checkModelFile, readModelMetadata, sha256File } from './model-file.js';
import { postprocess, type PostprocessOptions } from './postprocess.js';
import { preprocess } from './preprocess.js';
import { InferenceWorker, ModelLoadFailed, type SpawnWorker } from './worker-client.js';
import type { ReadyReply } from './worker-protocol.js';

export type DetectorConfig = AgentConfig['detector'];

export interface OnnxDetectorDeps {
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Starts the inference worker; tests wrap the real one to kill it mid-run. */
  spawnWorker?: SpawnWorker;
}

/** Input size for a dynamic-shape export without `imgsz` metadata (ultralytics' default). */
const DEFAULT_INPUT = 640;
const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

function inputSize(ready: ReadyReply, meta: YoloMetadata): { width: number; height: number } {
  const dims = ready.input.dims;
  if (dims.length !== 4 || (dims[1] !== 3 && dims[1] !== -1)) {
    throw new ModelError(
      `model input ${ready.input.name} [${dims.join(',')}] is not an image batch [1,3,H,W]`,
      'export a YOLO detection model (ultralytics YOLOv5/v8/11) to ONNX',
    );
  }
  const height = dims[2]! > 0 ? dims[2]! : (meta.imgsz?.height ?? DEFAULT_INPUT);
  const width = dims[3]! > 0 ? dims[3]! : (meta.imgsz?.width ?? DEFAULT_INPUT);
  return { width, height };
}

function resolveClasses(config: DetectorConfig, meta: YoloMetadata, layout: LayoutInfo, outputDims: number[]): string[] {
  const nc = layout.numClasses;
  if (config.classes && config.classes.length !== nc) {
    throw new ModelError(
      `detector.classes lists ${config.classes.length} classes but the model has ${nc} (output [${outputDims.join(',')}], ${layout.layout} layout${meta.names ? `, metadata names ${meta.names.join(', ')}` : ''})`,
      `list exactly ${nc} class names in detector.classes, or remove it to use the model's own names`,
    );
  }
  return config.classes ?? meta.names ?? Array.from({ length: nc }, (_, i) => `class${i}`);
}

/** Loads the model in a worker thread and returns a ready detector. Throws ModelError naming the cause. */
export async function createOnnxDetector(config: DetectorConfig, deps: OnnxDetectorDeps): Promise<Detector> {
  const modelPath = config.modelPath;
  await checkModelFile(modelPath);
  const init = { type: 'init' as const, modelPath, provider: config.provider, threads: config.threads };
  const [sha256, onnxMeta, started] = await Promise.all([
    sha256File(modelPath),
    readModelMetadata(modelPath).catch((error: unknown) => {
      deps.logger.warn({ modelPath, err: message(error) }, 'cannot read the model metadata; using the output shape alone');
      return { props: {} };
    }),
    InferenceWorker.start({
      init,
      ...(deps.spawnWorker ? { spawn: deps.spawnWorker } : {}),
      onDeath: (why) => deps.logger.warn({ why }, 'inference worker died; restarting it'),
    }).catch((error: unknown) => {
      if (error instanceof ModelLoadFailed) {
        throw new ModelError(
          `cannot load model ${modelPath}: ${error.message}`,
          'the file is not a complete ONNX model; copy it again or re-export it (ultralytics `format=onnx`)',
        );
      }
      throw new ModelError(`the inference worker could not start (${message(error)})`, 'check the onnxruntime-node install for this platform (`npm ls onnxruntime-node`)');
    }),
  ]);
  const { worker, ready } = started;
  try {
    if (ready.fallbackReason !== undefined) {
      deps.logger.warn(
        {
          requested: config.provider,
          using: ready.provider,
          reason: ready.fallbackReason,
          fix: 'install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 (x64) and the CUDA 12 / TensorRT libraries, or use a build of onnxruntime with that provider (Jetson)',
        },
        `execution provider ${config.provider} is not available in this onnxruntime-node binding; using cpu`,
      );
    }
    const meta = yoloMetadata(onnxMeta.props);
    const input = inputSize(ready, meta);
    const dims = [1, 3, input.height, input.width];
    // A first run warms the session up and gives the real output shape (dynamic exports have none).
    const warm = await worker.run(new Float32Array(3 * input.width * input.height), dims).catch((error: unknown) => {
      throw new ModelError(`model ${modelPath} fails on a blank ${input.width}×${input.height} image: ${message(error)}`, 'check it is a YOLO detection export');
    });
    const hints = meta.names ? { numClasses: meta.names.length, ultralyticsHead: meta.task !== undefined } : {};
    const layout = detectLayout(warm.dims, hints);
    const classes = resolveClasses(config, meta, layout, warm.dims);
    const sha = sha256.slice(0, 12);
    const info: DetectorInfo = {
      modelPath,
      sha256,
      model: `${meta.model ?? basename(modelPath, extname(modelPath))}@${meta.version ?? sha}`,
      classes,
      input,
      layout: layout.layout,
      provider: ready.provider,
      threads: config.threads,
    };
    const post: PostprocessOptions = {
      layout,
      thresholds: classThresholds(classes, config.confidence, config.classConfidence),
      classes,
      iou: config.iou,
      maxDetections: config.maxDetections,
    };
    deps.logger.info({ ...info, warmupMs: Math.round(warm.inferenceMs) }, 'detector ready');
    return new OnnxDetector(info, worker, post, dims, config.maxPixels, [warm.input]);
  } catch (error) {
    await worker.close();
    throw error;
  }
}

/** Keeps at most this many idle input buffers (one per frame in flight). */
const POOL_SIZE = 4;

class OnnxDetector implements Detector {
  private readonly window = new LatencyWindow();
  private closed = false;

  constructor(
    readonly info: DetectorInfo,
    private readonly worker: InferenceWorker,
    private readonly post: PostprocessOptions,
    private readonly dims: number[],
    private readonly maxPixels: number,
    private readonly pool: Float32Array[],
  ) {}

  async detect(image: ImageInput): Promise<DetectResult> {
    if (this.closed) throw new DetectError('detector is closed');
    const started = performance.now();
    try {
      const buffer = this.pool.pop() ?? new Float32Array(3 * this.info.input.width * this.info.input.height);
      const pre = await preprocess(image, this.info.input, buffer, { maxPixels: this.maxPixels }).catch((error: unknown) => {
        this.release(buffer);
        throw error;
      });
      const preprocessed = performance.now();
      const result = await this.worker.run(buffer, this.dims);
      this.release(result.input);
      const inferred = performance.now();
      const detections = postprocess(result.output, pre.letterbox, this.post);
      const done = performance.now();
      this.window.record(done - started);
      return {
        detections,
        frame: pre.frame,
        timings: { preprocessMs: preprocessed - started, inferenceMs: inferred - preprocessed, postprocessMs: done - inferred, sessionRunMs: result.inferenceMs },
      };
    } catch (error) {
      this.window.fail();
      throw error instanceof DetectError ? error : new DetectError(`detection failed: ${message(error)}`);
    }
  }

  private release(buffer: Float32Array): void {
    if (this.pool.length < POOL_SIZE && buffer.byteLength > 0) this.pool.push(buffer);
  }

  latency(): LatencySummary {
    return this.window.summary();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.close();
  }
}
