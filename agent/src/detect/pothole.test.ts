import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigSchema } from '../config/schema.js';
import { potholeFixture } from '../../../models/scene/fixtures.js';
import type { Detector } from './detector.js';
import { defaultModelPath } from './model-path.js';
import { createOnnxDetector } from './onnx-detector.js';
import { iou } from './nms.js';

describe('the shipped model', () => {
  let detector: Detector | undefined;
  afterAll(async () => detector?.close());

  it('finds the pothole in the generated fixture (confidence > 0.5, IoU > 0.5 with its label)', async () => {
    const modelPath = defaultModelPath();
    // Deliberately a failure, not a skip: the agent cannot work without its model.
    if (!existsSync(modelPath)) throw new Error(`shipped model ${modelPath} is missing — run \`npm run model:train\` (or restore models/road-damage-tiny/)`);
    const { jpeg, labels } = await potholeFixture();
    const pothole = labels.find((l) => l.cls === 'D40');
    expect(pothole, 'the fixture has a D40 label').toBeDefined();

    const config = { ...AgentConfigSchema.shape.detector.parse({}), modelPath };
    detector = await createOnnxDetector(config, { logger: { info() {}, warn() {} } });
    expect(detector.info.classes).toEqual(['D00', 'D10', 'D20', 'D40']);
    const { detections, frame } = await detector.detect(jpeg);
    expect(frame).toEqual({ w: 1280, h: 720 });
    const best = detections
      .filter((d) => d.class === 'D40')
      .map((d) => ({ ...d, iou: iou(d.box, pothole!.box) }))
      .sort((a, b) => b.iou - a.iou)[0];
    expect(best, `no D40 detection; got ${JSON.stringify(detections)}`).toBeDefined();
    expect(best!.confidence).toBeGreaterThan(0.5);
    expect(best!.iou).toBeGreaterThan(0.5);
  });
});
