// Child process of generate-dataset.ts: renders and writes the seeds it is sent, one at a time.
// Arguments: DIR WIDTH HEIGHT.
import sharp from 'sharp';
import { renderSample, writeSample } from './dataset.js';

export interface WorkerJob {
  seed: number;
}
export type WorkerReply = { seed: number; classIndices: number[] } | { seed: number; error: string };

const [dir = '', width = '0', height = '0'] = process.argv.slice(2);
// One libvips thread per process: the processes already occupy the cores.
sharp.concurrency(1);

process.on('message', async ({ seed }: WorkerJob) => {
  let reply: WorkerReply;
  try {
    const sample = await renderSample(seed, Number(width), Number(height));
    await writeSample(dir, sample);
    reply = { seed, classIndices: sample.labels.map((l) => l.classIndex) };
  } catch (error) {
    reply = { seed, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  process.send?.(reply);
});
// Exit with the parent rather than linger as an orphan.
process.on('disconnect', () => process.exit(0));
