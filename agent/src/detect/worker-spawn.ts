import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export type SpawnWorker = () => Worker;

function tsxApiUrl(): string {
  try {
    return import.meta.resolve('tsx/esm/api');
  } catch {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href;
  }
}

/**
 * Starts a worker thread on an ES module, compiled (`.js`, from `agent/dist`) or TypeScript
 * (`.ts`, under vitest or tsx). Node cannot load `.ts` by itself, and on Node 20 a worker ignores
 * `--import tsx` in `execArgv`; so for `.ts` a tiny bootstrap registers tsx's ESM hooks inside the
 * worker first, then imports the entry.
 */
export function spawnModuleWorker(entry: URL, options: WorkerOptions = {}): Worker {
  // A worker inherits the process's execArgv; `--input-type` (from `node --input-type=module -e …`) stops it starting.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--input-type'));
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { execArgv, ...options });
  const api = JSON.stringify(tsxApiUrl());
  const bootstrap = `import(${api}).then((m) => (m.register ?? m.default.register)()).then(() => import(${JSON.stringify(entry.href)}))`;
  return new Worker(bootstrap, { execArgv, ...options, eval: true });
}

/** The inference worker beside this module: `worker.js` in dist, `worker.ts` in the sources. */
export const spawnInferenceWorker: SpawnWorker = () =>
  spawnModuleWorker(new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url), { name: 'roadwatch-inference' });
