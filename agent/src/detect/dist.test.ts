import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const srcDir = fileURLToPath(new URL('./', import.meta.url));
const distDir = `${root}agent/dist/detect/`;
const fixture = fileURLToPath(new URL('./testing/fixtures/yolov8-fixed.onnx', import.meta.url));

/** dist is stale when a source file of this folder is newer than its compiled twin. */
function distIsStale(): boolean {
  return readdirSync(srcDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .some((f) => {
      const js = `${distDir}${f.replace(/\.ts$/, '.js')}`;
      return !existsSync(js) || statSync(js).mtimeMs < statSync(`${srcDir}${f}`).mtimeMs;
    });
}

describe('compiled detector (agent/dist)', () => {
  beforeAll(() => {
    if (distIsStale()) execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'agent'], { cwd: root, stdio: 'pipe' });
  }, 120_000);

  it('loads worker.js beside it (no tsx) and detects', () => {
    const script = `
      import sharp from 'sharp';
      import { createOnnxDetector } from ${JSON.stringify(`${distDir}index.js`)};
      const logger = { info() {}, warn(o, m) { console.error(m); } };
      const config = { modelPath: ${JSON.stringify(fixture)}, provider: 'cpu', threads: 1, confidence: 0.25,
        classConfidence: {}, iou: 0.45, maxDetections: 100, maxPixels: 40e6 };
      const detector = await createOnnxDetector(config, { logger });
      const jpeg = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#646464' } }).jpeg().toBuffer();
      const result = await detector.detect(jpeg);
      await detector.close();
      console.log(JSON.stringify({ model: detector.info.model, boxes: result.detections.map((d) => [d.class, d.box]) }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: `${root}agent`, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      model: 'fixture-v8@1',
      boxes: [
        ['D40', [560, 320, 720, 400]],
        ['D00', [560, 320, 720, 400]],
        ['D20', [0, 40, 200, 200]],
      ],
    });
  });
});
