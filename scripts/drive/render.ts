// Rendering a drive's frames: the scene options of one frame (pure), and a pool of child processes
// that render and write them (the pattern of models/scene/generate-dataset.ts: child processes rather
// than worker threads, because they inherit tsx's loader flags, which a worker thread does not apply
// to a .ts entry point).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { LabelledBox } from '../../models/scene/labels.js';
import type { SceneOptions } from '../../models/scene/render.js';
import { frameFileName, type DrivePlan, type FrameDamage, type PlannedFrame } from './simulate.js';
import type { TruthBox } from './truth.js';

const WORKER_PATH = fileURLToPath(new URL(`./render-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

export interface RenderJob {
  index: number;
  file: string;
  scene: SceneOptions;
}
export type RenderReply = { index: number; boxes: TruthBox[] } | { index: number; error: string };

/** Everything fixed explicitly, so the renderer draws nothing of its own but the seed's texture and noise. */
export function frameSceneOptions(plan: DrivePlan, frame: PlannedFrame): SceneOptions {
  return {
    width: plan.width,
    height: plan.height,
    seed: plan.sceneSeed,
    damage: frame.damage,
    conditions: plan.conditions,
    camera: plan.camera,
    road: plan.road,
    roadOffsetM: frame.roadOffsetM,
  };
}

/** The renderer's labels as truth boxes (the defect id travels on the placement). */
export function truthBoxes(labels: readonly LabelledBox[]): TruthBox[] {
  return labels.map((l) => ({ defectId: (l.placement as FrameDamage).id, class: l.cls, box: l.box }));
}

export interface RenderProgress {
  done: number;
  total: number;
  elapsedS: number;
}

/** Renders every frame to DIR/frames/000001.jpg …; resolves with each frame's labelled boxes. */
export async function renderFrames(plan: DrivePlan, dir: string, options: { workers: number; onProgress?: (p: RenderProgress) => void }): Promise<Map<number, TruthBox[]>> {
  const total = plan.frames.length;
  const boxes = new Map<number, TruthBox[]>();
  if (total === 0) return boxes;
  const started = performance.now();
  let next = 0;
  let done = 0;
  await new Promise<void>((resolve, reject) => {
    const workers: ChildProcess[] = [];
    let failed = false;
    const stopAll = () => {
      for (const w of workers) if (w.connected) w.disconnect();
    };
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      stopAll();
      reject(error);
    };
    const feed = (worker: ChildProcess) => {
      if (next >= total) return;
      const frame = plan.frames[next++]!;
      const job: RenderJob = { index: frame.index, file: join(dir, 'frames', frameFileName(frame.index)), scene: frameSceneOptions(plan, frame) };
      worker.send(job);
    };
    for (let k = 0; k < Math.min(options.workers, total); k++) {
      const worker = fork(WORKER_PATH, [], { execArgv: process.execArgv });
      workers.push(worker);
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (done < total && code !== 0) fail(new Error(`render worker exited with code ${code}`));
      });
      worker.on('message', (reply: RenderReply) => {
        if ('error' in reply) return fail(new Error(`frame ${reply.index}: ${reply.error}`));
        boxes.set(reply.index, reply.boxes);
        done++;
        options.onProgress?.({ done, total, elapsedS: (performance.now() - started) / 1000 });
        if (done === total) {
          stopAll();
          resolve();
        } else feed(worker);
      });
      feed(worker);
    }
  });
  return boxes;
}
