import type { Worker } from 'node:worker_threads';
import { DetectError } from './errors.js';
import type { InitRequest, ReadyReply, ResultReply, WorkerReply } from './worker-protocol.js';
import { spawnInferenceWorker, type SpawnWorker } from './worker-spawn.js';

export { spawnInferenceWorker, type SpawnWorker } from './worker-spawn.js';

/** How long close() waits for the worker to finish its frame and exit before leaving it to process exit. */
const CLOSE_TIMEOUT_MS = 10_000;

/** onnxruntime refused the model (its message), as opposed to the worker itself failing. */
export class ModelLoadFailed extends Error {
  override name = 'ModelLoadFailed';
}

interface Pending {
  resolve(reply: ResultReply): void;
  reject(error: Error): void;
}

/**
 * One live inference worker: load the model, run tensors one at a time, report how it died.
 * Owned by `InferenceWorker`, which replaces it after a death.
 */
class WorkerProcess {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private lastError: Error | undefined;
  private onReady: ((reply: ReadyReply) => void) | undefined;
  private onInitError: ((error: Error) => void) | undefined;
  dead = false;
  closing = false;

  constructor(
    private readonly worker: Worker,
    private readonly onDeath: (why: string) => void,
  ) {
    worker.on('message', (reply: WorkerReply) => this.handle(reply));
    worker.on('error', (error) => {
      this.lastError = error;
    });
    worker.on('exit', (code) => this.died(`inference worker stopped (exit code ${code}${this.lastError ? `: ${this.lastError.message}` : ''})`));
  }

  init(request: InitRequest): Promise<ReadyReply> {
    return new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.onInitError = reject;
      this.worker.postMessage(request);
    });
  }

  run(input: Float32Array, dims: number[]): Promise<ResultReply> {
    if (this.dead) return Promise.reject(new DetectError('inference worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'run', id, input, dims }, [input.buffer as ArrayBuffer]);
    });
  }

  /**
   * Asks the worker to exit after the frame it is running, and waits for it. Never `terminate()`:
   * onnxruntime-node aborts the whole process (an uncaught Napi::Error) when a worker is
   * terminated inside `session.run`. A worker that does not exit in time is unref'd and left to
   * the process's own exit.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.dead) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([exited, late])) === 'late') this.worker.unref();
    clearTimeout(timer);
  }

  private handle(reply: WorkerReply): void {
    if (reply.type === 'ready') this.onReady?.(reply);
    else if (reply.type === 'init-error') this.onInitError?.(new ModelLoadFailed(reply.message));
    else {
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (!pending) return;
      if (reply.type === 'result') pending.resolve(reply);
      else pending.reject(new DetectError(`inference failed: ${reply.message}`)); // its input buffer is dropped
    }
  }

  private died(why: string): void {
    if (this.dead) return;
    this.dead = true;
    this.onInitError?.(new Error(why));
    for (const { reject } of this.pending.values()) {
      reject(new DetectError(this.closing ? 'detector closed while this frame was running' : `${why} during this frame; it is restarted for the next frame`));
    }
    this.pending.clear();
    if (!this.closing) this.onDeath(why);
  }
}

export interface InferenceWorkerOptions {
  init: InitRequest;
  spawn?: SpawnWorker;
  /** Called when a worker dies unexpectedly (it is replaced at the next run). */
  onDeath?: (why: string) => void;
}

/**
 * The detector's handle on its inference worker. Runs are serialised (one frame in the worker at a
 * time, so the frame that killed a worker is known); a worker that died is replaced, with the same
 * model, before the next run.
 */
export class InferenceWorker {
  private current: WorkerProcess | undefined;
  private starting: Promise<WorkerProcess> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  restarts = 0;

  private constructor(private readonly options: InferenceWorkerOptions) {}

  /** Starts the worker and loads the model; rejects with ORT's message when it cannot. */
  static async start(options: InferenceWorkerOptions): Promise<{ worker: InferenceWorker; ready: ReadyReply }> {
    const worker = new InferenceWorker(options);
    const { process, ready } = await worker.spawn();
    worker.current = process;
    return { worker, ready };
  }

  private async spawn(): Promise<{ process: WorkerProcess; ready: ReadyReply }> {
    const process = new WorkerProcess((this.options.spawn ?? spawnInferenceWorker)(), (why) => {
      if (!this.closed) this.options.onDeath?.(why);
    });
    try {
      return { process, ready: await process.init(this.options.init) };
    } catch (error) {
      await process.close();
      throw error;
    }
  }

  private async live(): Promise<WorkerProcess> {
    if (this.current && !this.current.dead) return this.current;
    this.starting ??= this.spawn()
      .then(({ process }) => {
        this.restarts++;
        this.current = process;
        return process;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }

  /** Runs one input; rejects with a DetectError when the run fails or the worker dies. */
  run(input: Float32Array, dims: number[]): Promise<ResultReply> {
    if (this.closed) return Promise.reject(new DetectError('detector is closed'));
    const result = this.queue.then(async () => {
      let process: WorkerProcess;
      try {
        process = await this.live();
      } catch (error) {
        throw new DetectError(`cannot restart the inference worker (${(error as Error).message})`, 'check the model file is still in place');
      }
      return process.run(input, dims);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.starting?.catch(() => undefined);
    await this.current?.close();
  }
}
