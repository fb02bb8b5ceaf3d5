// Generates a YOLO-format dataset of rendered road scenes in parallel child processes (one per core).
//   npm run model:data -- --out DIR --count N --seed-start S [--width 640 --height 360 --workers 2]
// Writes DIR/images/{id}.jpg, DIR/labels/{id}.txt (classIndex cx cy w h, normalised) and DIR/dataset.json.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { datasetManifest, prepareDatasetDirs, splitOfSeed } from './dataset.js';
import type { WorkerReply } from './dataset-worker.js';

// Child processes rather than worker threads: they inherit this process's loader flags (tsx), which a
// worker thread does not apply to a .ts entry point.
const WORKER_PATH = fileURLToPath(new URL(`./dataset-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

interface Args {
  out: string;
  count: number;
  seedStart: number;
  width: number;
  height: number;
  workers: number;
}

function parse(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      count: { type: 'string' },
      'seed-start': { type: 'string', default: '1' },
      width: { type: 'string', default: '640' },
      height: { type: 'string', default: '360' },
      workers: { type: 'string', default: String(Math.max(1, Math.min(availableParallelism(), 8))) },
    },
  });
  const int = (name: string, raw: string | undefined, min: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${raw ?? '(missing)'}`);
    return n;
  };
  if (!values.out) throw new Error('--out DIR is required');
  return {
    out: values.out,
    count: int('count', values.count, 1),
    seedStart: int('seed-start', values['seed-start'], 0),
    width: int('width', values.width, 16),
    height: int('height', values.height, 16),
    workers: int('workers', values.workers, 1),
  };
}

async function generate(args: Args): Promise<void> {
  const { out, count, seedStart, width, height } = args;
  const splits = new Set([splitOfSeed(seedStart), splitOfSeed(seedStart + count - 1)]);
  if (splits.size > 1) console.warn(`warning: seeds ${seedStart}..${seedStart + count - 1} cross split boundaries (${[...splits].join(', ')})`);
  await prepareDatasetDirs(out);
  const boxesPerClass = [0, 0, 0, 0];
  let imagesWithoutBoxes = 0;
  let next = 0;
  let done = 0;
  const started = performance.now();
  const workerCount = Math.min(args.workers, count);
  await new Promise<void>((resolve, reject) => {
    const workers: ChildProcess[] = [];
    const stopAll = () => {
      for (const w of workers) w.connected && w.disconnect();
    };
    const fail = (error: Error) => {
      stopAll();
      reject(error);
    };
    const feed = (worker: ChildProcess) => {
      if (next < count) worker.send({ seed: seedStart + next++ });
    };
    for (let k = 0; k < workerCount; k++) {
      const worker = fork(WORKER_PATH, [out, String(width), String(height)], { execArgv: process.execArgv });
      workers.push(worker);
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (done < count && code !== 0) fail(new Error(`worker exited with code ${code}`));
      });
      worker.on('message', (reply: WorkerReply) => {
        if ('error' in reply) return fail(new Error(`seed ${reply.seed}: ${reply.error}`));
        for (const c of reply.classIndices) boxesPerClass[c]!++;
        if (reply.classIndices.length === 0) imagesWithoutBoxes++;
        done++;
        if (done % Math.max(1, Math.floor(count / 20)) === 0 || done === count) {
          const s = (performance.now() - started) / 1000;
          console.log(`${done}/${count} images, ${s.toFixed(1)} s, ${(done / s).toFixed(1)} images/s`);
        }
        if (done === count) {
          stopAll();
          resolve();
        } else feed(worker);
      });
      feed(worker);
    }
  });
  const manifest = datasetManifest({ seedStart, count, width, height, boxesPerClass, imagesWithoutBoxes });
  await writeFile(join(out, 'dataset.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const seconds = (performance.now() - started) / 1000;
  console.log(`wrote ${count} images to ${out} in ${seconds.toFixed(1)} s with ${workerCount} workers; boxes ${JSON.stringify(manifest.boxesPerClass)}, ${imagesWithoutBoxes} without boxes`);
}

Promise.resolve()
  .then(() => generate(parse(process.argv.slice(2))))
  .catch((error: unknown) => {
    console.error(`model:data: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
