import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { UserError } from '@roadwatch/shared';
import type { DetectResult, Detector } from '../detect/detector.js';
import { createLogger } from '../logger.js';
import { fieldLogLevel, loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface DetectOptions {
  config?: string;
  json?: boolean;
  out?: string;
  model?: string;
  confidence?: number;
}

/** Registers `roadwatch detect` (called from program.ts). */
export function addDetectCommand(program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  program
    .command('detect')
    .description('find road damage in images with the model (no device credentials needed); --out writes annotated copies')
    .argument('<image...>', 'image files (JPEG, PNG, WebP, TIFF)')
    .option('--out <dir>', 'write <name>.annotated.jpg here: boxes, class and confidence')
    .option('--json', 'print one JSON line per image')
    .option('--model <path>', 'ONNX model to use instead of the configured one (yours or the shipped one)')
    .option('--confidence <x>', 'minimum confidence 0…1 for every class (config default 0.25)', parseConfidence)
    .action(async (images: string[], _opts, cmd: Command) => {
      setExitCode(await detectCommand(images, cmd.optsWithGlobals<DetectOptions>(), io));
    });
}

function parseConfidence(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1, e.g. 0.25');
  return n;
}

/** Files larger than this are refused before they are read (a camera still is a few MB). */
export const MAX_IMAGE_BYTES = 64 * 1024 * 1024;

interface Done {
  file: string;
  result: DetectResult;
  annotated?: string;
}

interface Failed {
  file: string;
  error: string;
}

/** `roadwatch detect`: exit 0 when every image was processed, 1 when some failed, 2 when nothing could run. */
export async function detectCommand(images: readonly string[], options: DetectOptions, io: CliIo): Promise<number> {
  const config = loadFieldConfig(options.config, io.env);
  const settings = {
    ...config.detector,
    ...(options.model === undefined ? {} : { modelPath: resolve(options.model) }),
    ...(options.confidence === undefined ? {} : { confidence: options.confidence }),
  };
  const out = options.out === undefined ? undefined : await prepareOutDir(options.out);
  const logger = createLogger({ level: fieldLogLevel(config.logLevel), destination: io.stderr });
  // onnxruntime and sharp load only for this command, not for every roadwatch command line.
  const [{ createOnnxDetector }, { annotateImage }] = await Promise.all([import('../detect/index.js'), import('../detect/annotate.js')]);
  const detector = await createOnnxDetector(settings, { logger });
  const print = options.json ? jsonPrinter(io, detector) : tablePrinter(io, detector, images);
  const output: Output | undefined =
    out === undefined ? undefined : { dir: out, names: new Set(), annotate: (image, detections) => annotateImage(image, detections, { maxPixels: settings.maxPixels }) };
  let failed = 0;
  try {
    for (const file of images) {
      const outcome = await detectOne(detector, file, output);
      if ('error' in outcome) failed++;
      print(outcome);
    }
  } finally {
    await detector.close();
  }
  if (!options.json) {
    const summary = `${images.length} image${images.length === 1 ? '' : 's'}, ${failed === 0 ? 'all processed' : `${failed} failed`}`;
    io.stdout.write(`${summary}${out && failed < images.length ? `; annotated images in ${out}` : ''}\n`);
  }
  return failed > 0 ? 1 : 0;
}

async function prepareOutDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    return dir;
  } catch (error) {
    throw new UserError(`output directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'pass a directory you can write to with --out');
  }
}

interface Output {
  dir: string;
  /** Annotated file names already written in this run. */
  names: Set<string>;
  annotate: (image: Buffer, detections: DetectResult['detections']) => Promise<Buffer>;
}

async function detectOne(detector: Detector, file: string, out: Output | undefined): Promise<Done | Failed> {
  let image: Buffer;
  try {
    image = await readImage(file);
  } catch (error) {
    return { file, error: (error as Error).message };
  }
  let result: DetectResult;
  try {
    result = await detector.detect(image);
  } catch (error) {
    return { file, error: error instanceof Error ? error.message : String(error) };
  }
  if (out === undefined) return { file, result };
  const target = join(out.dir, uniqueName(file, out.names));
  try {
    await writeFile(target, await out.annotate(image, result.detections));
  } catch (error) {
    return { file, error: `found ${result.detections.length} but could not write the annotated image ${target}: ${(error as Error).message}` };
  }
  return { file, result, annotated: target };
}

async function readImage(file: string): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new Error('is a directory, not an image file');
    size = info.size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error('not found — check the path');
    if (code === 'EACCES') throw new Error('permission denied — check the file permissions');
    throw error;
  }
  if (size === 0) throw new Error('empty file (0 bytes) — the camera or the copy produced nothing');
  if (size > MAX_IMAGE_BYTES) throw new Error(`file of ${(size / 2 ** 20).toFixed(0)} MiB exceeds ${MAX_IMAGE_BYTES / 2 ** 20} MiB — not a camera image`);
  return readFile(file);
}

/** `<name>.annotated.jpg`; a second input with the same name gets `<name>-2.annotated.jpg`. */
function uniqueName(file: string, taken: Set<string>): string {
  const stem = basename(file, extname(file)) || 'image';
  let name = `${stem}.annotated.jpg`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.annotated.jpg`;
  taken.add(name);
  return name;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

function jsonPrinter(io: CliIo, detector: Detector): (o: Done | Failed) => void {
  const { model, sha256 } = detector.info;
  return (o) => {
    if ('error' in o) {
      io.stdout.write(`${JSON.stringify({ file: o.file, error: o.error, model, sha256 })}\n`);
      return;
    }
    const { detections, frame, timings } = o.result;
    const line = {
      file: o.file,
      frame,
      detections: detections.map((d) => ({ class: d.class, classIndex: d.classIndex, confidence: Math.round(d.confidence * 10_000) / 10_000, box: d.box.map((v) => Math.round(v * 10) / 10) })),
      timings: { preprocessMs: round(timings.preprocessMs), inferenceMs: round(timings.inferenceMs), postprocessMs: round(timings.postprocessMs) },
      model,
      sha256,
      ...(o.annotated === undefined ? {} : { annotated: o.annotated }),
    };
    io.stdout.write(`${JSON.stringify(line)}\n`);
  };
}

function tablePrinter(io: CliIo, detector: Detector, images: readonly string[]): (o: Done | Failed) => void {
  const { info } = detector;
  io.stdout.write(`model ${info.model} (sha256 ${info.sha256.slice(0, 12)}…), ${info.layout} layout, input ${info.input.width}×${info.input.height}, ${info.provider} × ${info.threads} threads\n\n`);
  const fileWidth = Math.min(40, Math.max(4, ...images.map((f) => f.length)));
  const classWidth = Math.min(24, Math.max(5, ...info.classes.map((c) => c.length)));
  const row = (file: string, cls: string, conf: string, box: string, ms: string) =>
    `${fit(file, fileWidth).padEnd(fileWidth)}  ${fit(cls, classWidth).padEnd(classWidth)}  ${conf.padStart(4)}  ${box.padEnd(19)}  ${ms.padStart(7)}`.trimEnd();
  io.stdout.write(`${row('file', 'class', 'conf', 'box x1 y1 x2 y2', 'ms')}\n`);
  return (o) => {
    if ('error' in o) {
      io.stdout.write(`${fit(o.file, fileWidth).padEnd(fileWidth)}  FAILED: ${o.error}\n`);
      return;
    }
    const { detections, timings } = o.result;
    const ms = (timings.preprocessMs + timings.inferenceMs + timings.postprocessMs).toFixed(1);
    if (detections.length === 0) io.stdout.write(`${row(o.file, '—', '', 'no damage found', ms)}\n`);
    detections.forEach((d, i) => {
      io.stdout.write(`${row(i === 0 ? o.file : '', d.class, d.confidence.toFixed(2), d.box.map((v) => Math.round(v)).join(' '), i === 0 ? ms : '')}\n`);
    });
  };
}

/** Keeps the end of a long path (the file name is the part that matters). */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `…${text.slice(text.length - width + 1)}`;
}
