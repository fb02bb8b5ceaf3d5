import type { DetectorInfo } from '../detect/detector.js';

/** `name@version+sha256 prefix`, stamped on every event: which model, exactly, found a defect. */
export function modelStamp(info: Pick<DetectorInfo, 'model' | 'sha256'>): string {
  return `${info.model}+${info.sha256.slice(0, 12)}`;
}
