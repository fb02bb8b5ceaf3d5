/**
 * The real inference worker plus a fault: the thread throws an uncaught error when its
 * `workerData.crashOnRun`-th frame arrives (before onnxruntime runs it), so the worker dies with a
 * frame in it — the way a bug or an out-of-memory kills a worker in the field.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../worker.js';

const { crashOnRun } = workerData as { crashOnRun: number };
let runs = 0;
parentPort!.on('message', (message: { type: string }) => {
  if (message.type === 'run' && ++runs === crashOnRun) throw new Error('simulated inference worker crash');
});
