import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ModelError } from './errors.js';
import { readOnnxMetadata, type OnnxMetadata } from './metadata.js';

const MODEL_PATH_FIX = 'set detector.modelPath / ROADWATCH_MODEL or reinstall models/';

/** Fails with a ModelError naming the fix when the model file is missing or not a file. */
export async function checkModelFile(path: string): Promise<void> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new ModelError(`model path ${path} is not a file`, MODEL_PATH_FIX);
  } catch (error) {
    if (error instanceof ModelError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ModelError(`model file ${path} not found`, MODEL_PATH_FIX);
    throw new ModelError(`cannot read model file ${path} (${(error as Error).message})`, 'check its permissions');
  }
}

/** sha256 of the file, streamed (a model can be hundreds of MB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The ONNX metadata read from the file with positioned reads (the weights are skipped). */
export async function readModelMetadata(path: string): Promise<OnnxMetadata> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await readOnnxMetadata({
      size,
      read: async (offset, length) => {
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      },
    });
  } finally {
    await handle.close();
  }
}
