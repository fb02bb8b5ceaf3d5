// Child process of render.ts: renders, encodes and writes the frames it is sent, one at a time.
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { encodeJpeg } from '../../models/scene/encode.js';
import { renderScene } from '../../models/scene/render.js';
import { truthBoxes, type RenderJob, type RenderReply } from './render.js';

// One libvips thread per process: the processes already occupy the cores.
sharp.concurrency(1);

process.on('message', async (job: RenderJob) => {
  let reply: RenderReply;
  try {
    const scene = renderScene(job.scene);
    await writeFile(job.file, await encodeJpeg(scene));
    reply = { index: job.index, boxes: truthBoxes(scene.labels) };
  } catch (error) {
    reply = { index: job.index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  process.send?.(reply);
});
// Exit with the parent rather than linger as an orphan.
process.on('disconnect', () => process.exit(0));
