import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shipped model: beside the executable in the release (a Node single executable application,
 * `<release>/models/road-damage-tiny/model.onnx`, docs/RELEASE.md); otherwise relative to this module
 * (agent/src or agent/dist → ../../models).
 */
export function defaultModelPath(): string {
  if (runningAsSea()) return join(dirname(process.execPath), 'models/road-damage-tiny/model.onnx');
  return fileURLToPath(new URL('../../../models/road-damage-tiny/model.onnx', import.meta.url));
}

/** `node:sea` exists from Node 20.12; on older Node this is never a SEA. */
function runningAsSea(): boolean {
  try {
    return (createRequire(import.meta.url)('node:sea') as { isSea(): boolean }).isSea();
  } catch {
    return false;
  }
}
