import { fileURLToPath } from 'node:url';

/** The shipped model, found relative to this module (agent/src or agent/dist → ../../models). */
export function defaultModelPath(): string {
  return fileURLToPath(new URL('../../../models/road-damage-tiny/model.onnx', import.meta.url));
}
