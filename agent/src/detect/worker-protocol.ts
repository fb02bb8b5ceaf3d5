/** Messages between the detector (main thread) and its inference worker. */

export type Provider = 'cpu' | 'cuda' | 'tensorrt';

export interface InitRequest {
  type: 'init';
  modelPath: string;
  provider: Provider;
  threads: number;
}

export interface RunRequest {
  type: 'run';
  id: number;
  /** CHW float32 input, transferred (not copied) and sent back with the reply for reuse. */
  input: Float32Array;
  dims: number[];
}

/** Finish the current frame, release the session, exit. */
export interface CloseRequest {
  type: 'close';
}

export type WorkerRequest = InitRequest | RunRequest | CloseRequest;

export interface TensorInfo {
  name: string;
  /** Static dimensions; symbolic ones (a dynamic export) are -1. */
  dims: number[];
}

export interface ReadyReply {
  type: 'ready';
  input: TensorInfo;
  output: TensorInfo;
  /** Provider in use after any fallback. */
  provider: Provider;
  /** Why the requested provider was not used, when it was not. */
  fallbackReason?: string;
}

export interface InitErrorReply {
  type: 'init-error';
  message: string;
}

export interface ResultReply {
  type: 'result';
  id: number;
  output: Float32Array;
  dims: number[];
  inferenceMs: number;
  input: Float32Array;
}

export interface RunErrorReply {
  type: 'run-error';
  id: number;
  message: string;
  input: Float32Array;
}

export type WorkerReply = ReadyReply | InitErrorReply | ResultReply | RunErrorReply;
