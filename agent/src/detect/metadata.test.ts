import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bufferSource, OnnxParseError, parseImgsz, parseNames, readOnnxMetadata, yoloMetadata } from './metadata.js';
import { readModelMetadata } from './model-file.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./testing/fixtures/${name}`, import.meta.url));

/** Hand-encoded protobuf helpers (varint, length-delimited field). */
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const field = (num: number, bytes: number[]): number[] => [...varint(num * 8 + 2), ...varint(bytes.length), ...bytes];
const str = (s: string): number[] => [...Buffer.from(s, 'utf8')];

describe('readOnnxMetadata', () => {
  it('reads the top-level fields and skips the rest by wire type', async () => {
    const bytes = Uint8Array.from([
      ...[0x08, 0x07], // ir_version = 7 (varint)
      ...field(2, str('pytorch')),
      ...field(3, str('2.1')),
      ...field(7, new Array(300).fill(0xab)), // "graph": skipped by length, never decoded
      ...[0x28, ...varint(300)], // model_version = 300
      ...[0x49, 1, 2, 3, 4, 5, 6, 7, 8], // field 9, fixed64: skipped
      ...[0x55, 1, 2, 3, 4], // field 10, fixed32: skipped
      ...field(14, [...field(1, str('names')), ...field(2, str("{0: 'D00', 1: 'D40'}"))]),
      ...field(14, [...field(1, str('imgsz')), ...field(2, str('[320, 320]'))]),
    ]);
    expect(await readOnnxMetadata(bufferSource(bytes))).toEqual({
      irVersion: 7,
      producerName: 'pytorch',
      producerVersion: '2.1',
      modelVersion: 300,
      props: { names: "{0: 'D00', 1: 'D40'}", imgsz: '[320, 320]' },
    });
  });

  it('reads a model written by python3-onnx from the file, without loading the graph', async () => {
    const meta = await readModelMetadata(fixture('yolov8-fixed.onnx'));
    expect(meta.irVersion).toBe(7);
    expect(meta.producerName).toBe('pytorch');
    expect(meta.props).toMatchObject({ names: "{0: 'D00', 1: 'D10', 2: 'D20', 3: 'D40'}", imgsz: '[320, 320]', task: 'detect', model: 'fixture-v8', version: '1' });
  });

  it('reports a truncated file', async () => {
    await expect(readModelMetadata(fixture('corrupt.onnx'))).rejects.toThrow(OnnxParseError);
    await expect(readOnnxMetadata(bufferSource(Uint8Array.from([0x0a, 0x05, 1])))).rejects.toThrow(/past the end/);
    await expect(readOnnxMetadata(bufferSource(Buffer.from('not a model at all, just text\n')))).rejects.toThrow(OnnxParseError);
  });
});

describe('ultralytics metadata', () => {
  it('parses names dicts and lists, with quotes inside names', () => {
    expect(parseNames("{0: 'D00', 1: 'D10', 2: 'D20', 3: 'D40'}")).toEqual(['D00', 'D10', 'D20', 'D40']);
    expect(parseNames(`{0: 'person', 1: "driver's seat", 2: 'a\\'b'}`)).toEqual(['person', "driver's seat", "a'b"]);
    expect(parseNames("['pothole', 'crack']")).toEqual(['pothole', 'crack']);
    expect(parseNames("{0: 'a', 2: 'c'}")).toEqual(['a', 'class1', 'c']);
    expect(parseNames('garbage')).toBeUndefined();
    expect(parseNames('{}')).toBeUndefined();
  });

  it('parses imgsz as [height, width] or one number', () => {
    expect(parseImgsz('[320, 320]')).toEqual({ width: 320, height: 320 });
    expect(parseImgsz('[384, 640]')).toEqual({ width: 640, height: 384 });
    expect(parseImgsz('640')).toEqual({ width: 640, height: 640 });
    expect(parseImgsz('')).toBeUndefined();
  });

  it('collects what the engine uses', () => {
    expect(yoloMetadata({ names: "{0: 'D40'}", imgsz: '[320, 320]', task: 'detect', model: 'road-damage-tiny', version: '1', stride: '32' })).toEqual({
      names: ['D40'],
      imgsz: { width: 320, height: 320 },
      task: 'detect',
      model: 'road-damage-tiny',
      version: '1',
    });
    expect(yoloMetadata({})).toEqual({});
  });
});
