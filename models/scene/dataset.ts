// Training data: scenes rendered to JPEG with YOLO labels. Image i of a dataset uses seed seedStart + i,
// and train, validation and test sets use disjoint seed ranges (see SEED_RANGES and the README).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DAMAGE_CLASSES, DAMAGE_NAMES } from './damage.js';
import { encodeJpeg } from './encode.js';
import type { LabelledBox } from './labels.js';
import { renderScene, type RenderedScene } from './render.js';

/** Bump when the look or the labels change enough that a model should be retrained. */
export const GENERATOR_VERSION = 'roadwatch-scene/2';

export const SEED_RANGES = {
  train: { first: 1, last: 99_999 },
  val: { first: 100_000, last: 899_999 },
  test: { first: 900_000, last: 999_999 },
} as const;

export function splitOfSeed(seed: number): keyof typeof SEED_RANGES | undefined {
  return (Object.keys(SEED_RANGES) as (keyof typeof SEED_RANGES)[]).find((split) => seed >= SEED_RANGES[split].first && seed <= SEED_RANGES[split].last);
}

export function sampleId(seed: number): string {
  return String(seed).padStart(7, '0');
}

/** One line per box: `classIndex cx cy w h`, normalised to 0–1. */
export function yoloLabelText(scene: Pick<RenderedScene, 'width' | 'height' | 'labels'>): string {
  return scene.labels
    .map(({ classIndex, box: [x1, y1, x2, y2] }) => {
      const values = [(x1 + x2) / 2 / scene.width, (y1 + y2) / 2 / scene.height, (x2 - x1) / scene.width, (y2 - y1) / scene.height];
      return `${classIndex} ${values.map((v) => v.toFixed(6)).join(' ')}`;
    })
    .map((line) => `${line}\n`)
    .join('');
}

export interface DatasetSample {
  id: string;
  seed: number;
  jpeg: Buffer;
  labelText: string;
  labels: LabelledBox[];
}

export async function renderSample(seed: number, width: number, height: number): Promise<DatasetSample> {
  const scene = renderScene({ width, height, seed });
  return { id: sampleId(seed), seed, jpeg: await encodeJpeg(scene), labelText: yoloLabelText(scene), labels: scene.labels };
}

export async function prepareDatasetDirs(dir: string): Promise<void> {
  await mkdir(join(dir, 'images'), { recursive: true });
  await mkdir(join(dir, 'labels'), { recursive: true });
}

export async function writeSample(dir: string, sample: DatasetSample): Promise<void> {
  await writeFile(join(dir, 'images', `${sample.id}.jpg`), sample.jpeg);
  await writeFile(join(dir, 'labels', `${sample.id}.txt`), sample.labelText);
}

export interface DatasetManifest {
  format: 'yolo';
  generator: string;
  classes: string[];
  names: Record<string, string>;
  count: number;
  seedStart: number;
  seedEnd: number;
  width: number;
  height: number;
  boxesPerClass: Record<string, number>;
  imagesWithoutBoxes: number;
}

export function datasetManifest(options: { seedStart: number; count: number; width: number; height: number; boxesPerClass: number[]; imagesWithoutBoxes: number }): DatasetManifest {
  return {
    format: 'yolo',
    generator: GENERATOR_VERSION,
    classes: [...DAMAGE_CLASSES],
    names: { ...DAMAGE_NAMES },
    count: options.count,
    seedStart: options.seedStart,
    seedEnd: options.seedStart + options.count - 1,
    width: options.width,
    height: options.height,
    boxesPerClass: Object.fromEntries(DAMAGE_CLASSES.map((cls, k) => [cls, options.boxesPerClass[k] ?? 0])),
    imagesWithoutBoxes: options.imagesWithoutBoxes,
  };
}
