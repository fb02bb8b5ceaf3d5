// npm run model:eval [-- --count 500 --seed-start 900000 --model PATH --width 1280 --height 720 --no-write --strict]
//
// Scores a model on road scenes generated in memory from test seeds (≥ 900 000; training uses
// 1…99 999 and validation 100 000…), each encoded as a JPEG and run through the agent's real engine
// (createOnnxDetector: sharp letterbox, onnxruntime-node in its worker, decode, NMS). Reports
// precision, recall and AP@0.5 per class and overall; writes metrics.json beside the model and the
// metrics section of its MODEL_CARD.md.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AgentConfigSchema } from '../../agent/src/config/schema.js';
import { createOnnxDetector } from '../../agent/src/detect/index.js';
import { defaultModelPath } from '../../agent/src/detect/model-path.js';
import { DAMAGE_CLASSES, DAMAGE_NAMES, encodeJpeg, renderScene } from '../scene/index.js';
import { evaluateDetections, type ImageResult } from './metrics.js';
import { checkTargets, consoleTable, markdownTable, targetLines, updateModelCard } from './report.js';

/** The first seed of the test range; lower seeds belong to training and validation. */
export const TEST_SEED_START = 900_000;
/** Predictions kept down to this confidence for the precision/recall curve (as ultralytics' val). */
const CURVE_CONFIDENCE = 0.001;
const CURVE_MAX_DETECTIONS = 300;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    'seed-start': { type: 'string', default: String(TEST_SEED_START) },
    model: { type: 'string' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '720' },
    threads: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`model:eval: ${message}`);
  process.exit(2);
}

const count = Number(values.count);
const seedStart = Number(values['seed-start']);
const width = Number(values.width);
const height = Number(values.height);
if (!Number.isInteger(count) || count < 1) fail(`--count must be a whole number ≥ 1, got ${values.count}`);
if (!Number.isInteger(seedStart) || seedStart < TEST_SEED_START) {
  fail(`--seed-start ${values['seed-start']} is below ${TEST_SEED_START}: seeds 1…99 999 train the model and 100 000… validate it — evaluate on unseen seeds ≥ ${TEST_SEED_START}`);
}
const modelPath = values.model ? resolve(values.model) : defaultModelPath();
const base = AgentConfigSchema.shape.detector.parse({});
const operating = base.confidence; // precision and recall at the engine's default threshold
const threads = values.threads ? Number(values.threads) : base.threads;

const detector = await createOnnxDetector(
  { ...base, modelPath, threads, confidence: CURVE_CONFIDENCE, classConfidence: {}, maxDetections: CURVE_MAX_DETECTIONS },
  { logger: pino({ level: 'warn' }) },
).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));

const classes: readonly string[] = DAMAGE_CLASSES;
const modelIndex = detector.info.classes.map((name) => classes.indexOf(name));
if (modelIndex.some((i) => i < 0)) {
  await detector.close();
  fail(`the model's classes (${detector.info.classes.join(', ')}) are not the renderer's (${classes.join(', ')}) — this evaluation scores road-damage models trained on the RDD2022 classes`);
}

console.log(`Evaluating ${detector.info.model} (sha256 ${detector.info.sha256.slice(0, 12)}…, input ${detector.info.input.width}×${detector.info.input.height}, ${detector.info.layout}, ${detector.info.provider} × ${threads} threads)`);
console.log(`on ${count} generated ${width}×${height} scenes, seeds ${seedStart}…${seedStart + count - 1}, each a JPEG at its drawn quality (55–95)\n`);

async function scene(seed: number) {
  const rendered = renderScene({ width, height, seed });
  return { labels: rendered.labels, jpeg: await encodeJpeg(rendered) };
}

const images: ImageResult[] = [];
const started = performance.now();
let detectMs = 0;
let failures = 0;
let next = scene(seedStart);
for (let i = 0; i < count; i++) {
  const current = await next;
  const detecting = detector.detect(current.jpeg);
  // Render the next scene on this thread while the worker runs the model on the current one.
  if (i + 1 < count) next = scene(seedStart + i + 1);
  const result = await detecting.catch((error: unknown) => {
    failures++;
    console.error(`seed ${seedStart + i}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  if (result) detectMs += result.timings.preprocessMs + result.timings.inferenceMs + result.timings.postprocessMs;
  images.push({
    truths: current.labels.map((l) => ({ classIndex: l.classIndex, box: l.box })),
    predictions: (result?.detections ?? []).map((d) => ({ classIndex: modelIndex[d.classIndex]!, confidence: d.confidence, box: d.box })),
  });
  if ((i + 1) % 50 === 0 || i + 1 === count) process.stderr.write(`  ${i + 1}/${count} scenes (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
}
await detector.close();
if (failures > 0) fail(`${failures} of ${count} scenes failed to run through the detector (see above)`);

const summary = evaluateDetections(images, { numClasses: classes.length, iou: 0.5, confidence: operating });
const targets = checkTargets(summary, classes);
const elapsedS = (performance.now() - started) / 1000;

console.log(`\n${consoleTable(summary, classes, DAMAGE_NAMES)}\n`);
console.log(`P and R at confidence ≥ ${operating} (the engine's default); AP@0.5: IoU 0.5, all-point interpolation over predictions down to ${CURVE_CONFIDENCE}.`);
for (const line of targetLines(targets)) console.log(line);
console.log(`\n${count} scenes in ${elapsedS.toFixed(0)} s (detect step ${(detectMs / count).toFixed(1)} ms per scene while the next scene renders on the main thread; ${availableParallelism()} CPUs)`);

const metrics = {
  model: detector.info.model,
  sha256: detector.info.sha256,
  modelFile: detector.info.modelPath,
  input: detector.info.input,
  evaluatedAt: new Date().toISOString(),
  dataset: {
    generator: 'models/scene renderScene (seeded; test seeds never used in training)',
    seeds: [seedStart, seedStart + count - 1],
    images: count,
    size: { width, height },
    encoding: 'JPEG at each scene’s drawn quality',
  },
  method: {
    engine: 'agent createOnnxDetector (letterbox, worker-thread onnxruntime-node, class-aware NMS)',
    iou: 0.5,
    ap: 'all-point interpolated (VOC2010+/COCO style)',
    curveConfidence: CURVE_CONFIDENCE,
    operatingConfidence: operating,
    nmsIou: base.iou,
  },
  perClass: summary.perClass.map((m) => ({ class: classes[m.classIndex], name: DAMAGE_NAMES[DAMAGE_CLASSES[m.classIndex]!], labels: m.truths, tp: m.tp, fp: m.fp, fn: m.fn, precision: m.precision, recall: m.recall, ap50: m.ap })),
  overall: { labels: summary.overall.truths, tp: summary.overall.tp, fp: summary.overall.fp, fn: summary.overall.fn, precision: summary.overall.precision, recall: summary.overall.recall, map50: summary.overall.map },
  targets: targets.map((t) => ({ name: t.name, min: t.min, value: t.value, met: t.met })),
};

if (!values['no-write']) {
  const dir = dirname(modelPath);
  writeFileSync(join(dir, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(`\nwrote ${join(dir, 'metrics.json')}`);
  const card = [
    `Written by \`npm run model:eval\` (models/eval/evaluate.ts) on ${metrics.evaluatedAt.slice(0, 10)}: ${count} generated ${width}×${height} road scenes, seeds ${seedStart}–${seedStart + count - 1} (never used in training), each encoded as a JPEG and run through the agent's own engine. AP at IoU 0.5 with all-point interpolation over predictions down to confidence ${CURVE_CONFIDENCE}; precision (P) and recall (R) at the engine's default confidence ${operating}.`,
    '',
    markdownTable(summary, classes, DAMAGE_NAMES),
    '',
    ...targetLines(targets).map((l) => `- ${l}`),
  ].join('\n');
  const cardPath = join(dir, 'MODEL_CARD.md');
  console.log(updateModelCard(cardPath, card) ? `updated the metrics section of ${cardPath}` : `no ${cardPath}: metrics.json only`);
}
process.exitCode = values.strict && targets.some((t) => !t.met) ? 1 : 0;
