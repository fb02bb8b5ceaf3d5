import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { potholeFixture } from '../../../models/scene/fixtures.js';
import { classColour } from '../detect/annotate.js';
import { defaultModelPath } from '../detect/model-path.js';
import { runCli } from './program.js';
import { fakeIo as makeFakeIo } from './testing/fake-io.js';

// A real ONNX model run by the real engine: it outputs a fixed tensor whatever the picture, so the
// boxes are known by hand (see agent/src/detect/testing/fixtures/make-fixtures.py). On a 1280×720
// frame: D40 0.90 and D00 0.50 at [560,320,720,400], D20 0.40 at [0,40,200,200]. It fails its run
// when a pixel is pure white, which stands for "an inference that fails on one image".
const FIXTURE = fileURLToPath(new URL('../detect/testing/fixtures/yolov8-fixed.onnx', import.meta.url));
const GREY = { r: 90, g: 92, b: 96 };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roadwatch-detect-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const fakeIo = (env: NodeJS.ProcessEnv = { ROADWATCH_LOG_LEVEL: 'warn' }) => makeFakeIo(env);

async function image(name: string, background = GREY, format: 'jpeg' | 'png' = 'jpeg'): Promise<string> {
  const file = join(dir, name);
  const img = sharp({ create: { width: 1280, height: 720, channels: 3, background } });
  writeFileSync(file, await (format === 'jpeg' ? img.jpeg({ quality: 95 }) : img.png()).toBuffer());
  return file;
}

async function rgbAt(file: string, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(readFileSync(file)).raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i]!, data[i + 1]!, data[i + 2]!];
}

const near = (a: number[], b: readonly number[], tolerance = 30) => a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);

describe('roadwatch detect', () => {
  it('prints the detections, writes annotated JPEGs, reports bad files and still processes the rest (exit 1)', async () => {
    const road = await image('road.jpg');
    const empty = join(dir, 'empty.jpg');
    writeFileSync(empty, '');
    const text = join(dir, 'notes.jpg');
    writeFileSync(text, 'this is not a picture\n');
    const full = readFileSync(road);
    const truncated = join(dir, 'cut.jpg');
    writeFileSync(truncated, full.subarray(0, Math.floor(full.length / 2)));
    const white = await image('white.png', { r: 255, g: 255, b: 255 }, 'png'); // the fixture's inference fails on it
    const second = await image('after.png', GREY, 'png');
    const out = join(dir, 'out');

    const io = fakeIo(); // no device id, secret or hub URL: like replay, detect needs no credentials
    const code = await runCli(['detect', road, empty, text, truncated, white, second, join(dir, 'missing.jpg'), '--model', FIXTURE, '--out', out], io);
    expect(code, io.err()).toBe(1);
    const lines = io.out().split('\n');
    expect(lines[0]).toMatch(/^model fixture-v8@1 \(sha256 [0-9a-f]{12}…\), yolov8 layout, input 320×320, cpu × \d+ threads?$/);
    expect(io.out()).toMatch(new RegExp(`${road.slice(-30)}\\s+D40\\s+0\\.90\\s+560 320 720 400\\s+\\d+\\.\\d\\n`));
    expect(io.out()).toMatch(/\n\s+D00\s+0\.50\s+560 320 720 400\n/);
    expect(io.out()).toMatch(/\n\s+D20\s+0\.40\s+0 40 200 200\n/);
    expect(io.out()).toMatch(/empty\.jpg\s+FAILED: empty file \(0 bytes\)/);
    expect(io.out()).toMatch(/notes\.jpg\s+FAILED: not an image/);
    expect(io.out()).toMatch(/cut\.jpg\s+FAILED: truncated image/);
    expect(io.out()).toMatch(/white\.png\s+FAILED: inference failed/);
    expect(io.out()).toMatch(/after\.png\s+D40\s+0\.90/); // the detector survived the failed inference
    expect(io.out()).toMatch(/missing\.jpg\s+FAILED: not found/);
    expect(io.out()).toContain(`7 images, 5 failed; annotated images in ${out}\n`);

    expect(readdirSync(out).sort()).toEqual(['after.annotated.jpg', 'road.annotated.jpg']);
    const annotated = join(out, 'road.annotated.jpg');
    const meta = await sharp(annotated).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 720]);
    // Where the D40 box is drawn the pixels are red (D40 is drawn last, on top); elsewhere unchanged.
    expect(near(await rgbAt(annotated, 640, 400), classColour(3))).toBe(true);
    expect(near(await rgbAt(road, 640, 400), [GREY.r, GREY.g, GREY.b])).toBe(true);
    expect(near(await rgbAt(annotated, 640, 360), [GREY.r, GREY.g, GREY.b], 10)).toBe(true);
    expect(near(await rgbAt(annotated, 1000, 600), [GREY.r, GREY.g, GREY.b], 10)).toBe(true);
    // The D20 box at the frame's left edge.
    expect(near(await rgbAt(annotated, 100, 200), classColour(2))).toBe(true);
  });

  it('--json prints one line per image with frame, detections, timings, model and sha256', async () => {
    const road = await image('road.jpg');
    const bad = join(dir, 'bad.jpg');
    writeFileSync(bad, 'nope');
    const io = fakeIo();
    expect(await runCli(['detect', '--json', '--model', FIXTURE, road, bad], io)).toBe(1);
    const [first, second, ...rest] = io.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({
      file: road,
      frame: { w: 1280, h: 720 },
      detections: [
        { class: 'D40', classIndex: 3, confidence: 0.9, box: [560, 320, 720, 400] },
        { class: 'D00', classIndex: 0, confidence: 0.5, box: [560, 320, 720, 400] },
        { class: 'D20', classIndex: 2, confidence: 0.4, box: [0, 40, 200, 200] },
      ],
      model: 'fixture-v8@1',
    });
    expect(first!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(first!.timings as object)).toEqual(['preprocessMs', 'inferenceMs', 'postprocessMs']);
    expect(second).toMatchObject({ file: bad, model: 'fixture-v8@1' });
    expect(second!.error).toMatch(/^not an image/);
  });

  it('--confidence overrides the configured threshold', async () => {
    const io = fakeIo();
    expect(await runCli(['detect', '--json', '--confidence', '0.6', '--model', FIXTURE, await image('road.jpg')], io)).toBe(0);
    const line = JSON.parse(io.out()) as { detections: Array<{ class: string }> };
    expect(line.detections.map((d) => d.class)).toEqual(['D40']);
  });

  it('a missing model is fatal (exit 2) and names the path', async () => {
    const io = fakeIo();
    const missing = join(dir, 'no-such-model.onnx');
    expect(await runCli(['detect', '--model', missing, await image('road.jpg')], io)).toBe(2);
    expect(io.err()).toContain(missing);
    expect(io.err()).toMatch(/^roadwatch: /);
    expect(io.err()).not.toContain('    at ');
    expect(io.out()).toBe('');
  });

  it('rejects a confidence outside 0…1 and a missing image argument (exit 2)', async () => {
    const bad = fakeIo();
    expect(await runCli(['detect', '--confidence', '1.5', 'x.jpg'], bad)).toBe(2);
    expect(bad.err()).toContain('must be a number from 0 to 1');
    const none = fakeIo();
    expect(await runCli(['detect'], none)).toBe(2);
    expect(none.err()).toContain("missing required argument 'image'");
  });

  it('an --out path that cannot be a directory is fatal', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const io = fakeIo();
    expect(await runCli(['detect', '--model', FIXTURE, '--out', join(file, 'sub'), await image('road.jpg')], io)).toBe(2);
    expect(io.err()).toMatch(/output directory .*a-file\/sub: ENOTDIR — pass a directory you can write to with --out/);
  });

  it('two inputs with the same name get distinct annotated files', async () => {
    const a = await image('road.jpg');
    const sub = join(dir, 'sub');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    const b = join(sub, 'road.jpg');
    writeFileSync(b, readFileSync(a));
    const out = join(dir, 'out');
    expect(await runCli(['detect', '--model', FIXTURE, '--out', out, a, b], fakeIo())).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['road-2.annotated.jpg', 'road.annotated.jpg']);
    expect(existsSync(join(out, 'road.annotated.jpg'))).toBe(true);
  });

  it.skipIf(!existsSync(defaultModelPath()))('with the shipped model, finds the pothole of the generated fixture and boxes it', async () => {
    const { jpeg, labels } = await potholeFixture();
    const file = join(dir, 'pothole.jpg');
    writeFileSync(file, jpeg);
    const out = join(dir, 'out');
    const io = fakeIo();
    expect(await runCli(['detect', '--json', '--out', out, file], io), io.err()).toBe(0);
    const line = JSON.parse(io.out()) as { detections: Array<{ class: string; confidence: number; box: number[] }>; model: string };
    const truth = labels.find((l) => l.cls === 'D40')!.box;
    const pothole = line.detections.find((d) => d.class === 'D40');
    expect(pothole, JSON.stringify(line.detections)).toBeDefined();
    const [x1, y1, x2, y2] = pothole!.box as [number, number, number, number];
    const inter = Math.max(0, Math.min(x2, truth[2]) - Math.max(x1, truth[0])) * Math.max(0, Math.min(y2, truth[3]) - Math.max(y1, truth[1]));
    const union = (x2 - x1) * (y2 - y1) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - inter;
    expect(inter / union).toBeGreaterThan(0.5);
    // The annotated copy differs from the input on the drawn box edge.
    const annotated = join(out, 'pothole.annotated.jpg');
    const edge: [number, number] = [Math.round((x1 + x2) / 2), Math.round(y2)];
    expect(near(await rgbAt(annotated, ...edge), classColour(3))).toBe(true);
    expect(near(await rgbAt(file, ...edge), classColour(3))).toBe(false);
  });
});
