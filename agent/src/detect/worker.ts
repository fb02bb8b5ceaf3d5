/**
 * The inference worker: owns one onnxruntime InferenceSession. `session.run` is synchronous
 * native work on this thread's loop, so it must not run on the agent's main thread (MQTT
 * keepalives, SQLite). Tensors travel as transferred ArrayBuffers, never copied.
 */
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import type { InitRequest, Provider, ReadyReply, RunRequest, WorkerReply, WorkerRequest } from './worker-protocol.js';

if (!parentPort) throw new Error('worker.ts runs as a worker thread (see worker-client.ts)');
const port = parentPort;

let session: ort.InferenceSession | undefined;
// ORT's own stderr lines would duplicate the errors this worker returns (with ORT's message) to the detector.
ort.env.logLevel = 'fatal';

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const reply = (msg: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

function options(provider: Provider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    // 4 = fatal only: failures come back to the caller as errors with ORT's message instead.
    logSeverityLevel: 4,
  };
}

function dimsOf(meta: ort.InferenceSession.ValueMetadata | undefined): number[] {
  if (!meta || !meta.isTensor) return [];
  return meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
}

async function init({ modelPath, provider, threads }: InitRequest): Promise<void> {
  let used: Provider = provider;
  let fallbackReason: string | undefined;
  try {
    try {
      session = await ort.InferenceSession.create(modelPath, options(provider, threads));
    } catch (error) {
      if (provider === 'cpu') throw error;
      fallbackReason = message(error);
      used = 'cpu';
      session = await ort.InferenceSession.create(modelPath, options('cpu', threads));
    }
  } catch (error) {
    reply({ type: 'init-error', message: message(error) });
    return;
  }
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const ready: ReadyReply = {
    type: 'ready',
    input: { name: inputName, dims: dimsOf(session.inputMetadata[0]) },
    output: { name: outputName, dims: dimsOf(session.outputMetadata[0]) },
    provider: used,
  };
  if (fallbackReason !== undefined) ready.fallbackReason = fallbackReason;
  reply(ready);
}

async function run({ id, input, dims }: RunRequest): Promise<void> {
  try {
    if (!session) throw new Error('inference worker has no model loaded');
    const started = performance.now();
    const results = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input, dims) });
    const inferenceMs = performance.now() - started;
    const tensor = results[session.outputNames[0]!];
    if (!tensor || tensor.type !== 'float32') throw new Error(`model output is ${tensor?.type ?? 'missing'}, expected float32`);
    const output = tensor.data as Float32Array;
    reply({ type: 'result', id, output, dims: [...tensor.dims], inferenceMs, input }, [output.buffer as ArrayBuffer, input.buffer as ArrayBuffer]);
  } catch (error) {
    reply({ type: 'run-error', id, message: message(error), input }, [input.buffer as ArrayBuffer]);
  }
}

/** Runs one request at a time, in order: a close waits for the frame before it. */
let queue: Promise<void> = Promise.resolve();

async function close(): Promise<void> {
  await session?.release().catch(() => undefined);
  process.exit(0);
}

port.on('message', (request: WorkerRequest) => {
  queue = queue.then(() => (request.type === 'init' ? init(request) : request.type === 'run' ? run(request) : close()));
});
