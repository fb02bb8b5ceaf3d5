/**
 * ONNX model metadata without loading the model.
 *
 * Why parse protobuf here: onnxruntime-node 1.30 exposes only `inputMetadata`/`outputMetadata`
 * (names, shapes, types), not the model's custom `metadata_props` where ultralytics writes the
 * class `names`, `imgsz`, `stride`, `task` (microsoft/onnxruntime#16547 is still open; #23937
 * added only the input/output metadata). The Python, C, C#, Java and Go bindings have it.
 *
 * So we read the top-level fields of the `ModelProto` message ourselves, straight from the file
 * with positioned reads: the graph (field 7, the weights) is skipped by its length, never read.
 * Fields used: ir_version = 1, producer_name = 2, producer_version = 3, model_version = 5,
 * metadata_props = 14 (repeated StringStringEntryProto { key = 1; value = 2 }).
 */

export interface OnnxMetadata {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  modelVersion?: number;
  props: Record<string, string>;
}

/** Random access to the model file (a FileHandle in production, a Buffer in tests). */
export interface ByteSource {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Thrown when the bytes are not a protobuf ModelProto; ORT's own load error is the one to show. */
export class OnnxParseError extends Error {
  override name = 'OnnxParseError';
}

function readVarint(bytes: Uint8Array, at: number): [value: number, length: number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) throw new OnnxParseError(`varint runs past the data at byte ${at}`);
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, i + 1];
    multiplier *= 128;
  }
  throw new OnnxParseError(`varint longer than 10 bytes at byte ${at}`);
}

const utf8 = new TextDecoder('utf-8');

/** Fields of a small message held in memory: [field number, bytes] for length-delimited ones. */
function lengthDelimitedFields(bytes: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  let pos = 0;
  while (pos < bytes.length) {
    const [tag, n] = readVarint(bytes, pos);
    pos += n;
    const wire = tag & 7;
    if (wire === 0) pos += readVarint(bytes, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, m] = readVarint(bytes, pos);
      pos += m;
      if (pos + len > bytes.length) throw new OnnxParseError('field runs past the end of its message');
      out.push([Math.floor(tag / 8), bytes.subarray(pos, pos + len)]);
      pos += len;
    } else throw new OnnxParseError(`unsupported wire type ${wire}`);
  }
  return out;
}

/** Reads the top-level ModelProto fields the detector needs; throws OnnxParseError on malformed data. */
export async function readOnnxMetadata(source: ByteSource): Promise<OnnxMetadata> {
  const meta: OnnxMetadata = { props: {} };
  let pos = 0;
  while (pos < source.size) {
    const head = await source.read(pos, Math.min(22, source.size - pos));
    const [tag, tagLen] = readVarint(head, 0);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new OnnxParseError(`field number 0 at byte ${pos}`);
    if (wire === 0) {
      const [value, n] = readVarint(head, tagLen);
      if (field === 1) meta.irVersion = value;
      if (field === 5) meta.modelVersion = value;
      pos += tagLen + n;
    } else if (wire === 1) pos += tagLen + 8;
    else if (wire === 5) pos += tagLen + 4;
    else if (wire === 2) {
      const [len, n] = readVarint(head, tagLen);
      const start = pos + tagLen + n;
      if (start + len > source.size) throw new OnnxParseError(`field ${field} runs past the end of the file (truncated?)`);
      if (field === 2 || field === 3 || field === 14) {
        const bytes = await source.read(start, len);
        if (field === 2) meta.producerName = utf8.decode(bytes);
        else if (field === 3) meta.producerVersion = utf8.decode(bytes);
        else {
          let key = '';
          let value = '';
          for (const [f, b] of lengthDelimitedFields(bytes)) {
            if (f === 1) key = utf8.decode(b);
            else if (f === 2) value = utf8.decode(b);
          }
          meta.props[key] = value;
        }
      }
      pos = start + len;
    } else throw new OnnxParseError(`unsupported wire type ${wire} at byte ${pos}`);
  }
  if (pos !== source.size) throw new OnnxParseError('last field runs past the end of the file (truncated?)');
  return meta;
}

export function bufferSource(buffer: Uint8Array): ByteSource {
  return { size: buffer.length, read: async (offset, length) => buffer.subarray(offset, offset + length) };
}

const PY_STRING = String.raw`'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"`;

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
}

/**
 * Class names from the ultralytics `names` metadata, a Python dict repr (`{0: 'person', 1: 'bicycle'}`)
 * or, from older YOLOv5 exports, a list (`['person', 'bicycle']`). Undefined when it is neither.
 */
export function parseNames(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const entries = [...trimmed.matchAll(new RegExp(String.raw`(\d+)\s*:\s*(${PY_STRING})`, 'g'))];
    if (!entries.length) return undefined;
    const names: string[] = [];
    for (const [, index, literal] of entries) names[Number(index)] = unquote(literal!);
    return Array.from(names, (name, i) => name ?? `class${i}`);
  }
  if (trimmed.startsWith('[')) {
    const items = [...trimmed.matchAll(new RegExp(PY_STRING, 'g'))].map((m) => unquote(m[0]));
    return items.length ? items : undefined;
  }
  return undefined;
}

/** ultralytics `imgsz`: `[640, 640]` (height, width) or `640`. */
export function parseImgsz(text: string): { width: number; height: number } | undefined {
  const numbers = text.match(/\d+/g)?.map(Number) ?? [];
  const [h, w = h] = numbers;
  if (!h || !w || numbers.length > 2) return undefined;
  return { width: w, height: h };
}

/** What a YOLO export says about itself, from its metadata_props. */
export interface YoloMetadata {
  names?: string[];
  imgsz?: { width: number; height: number };
  /** Present in ultralytics (YOLOv8/11/v5u) exports, absent from the YOLOv5 repository's. */
  task?: string;
  /** `model` and `version` are written by the roadwatch training script. */
  model?: string;
  version?: string;
  description?: string;
}

export function yoloMetadata(props: Readonly<Record<string, string>>): YoloMetadata {
  const out: YoloMetadata = {};
  const names = props.names === undefined ? undefined : parseNames(props.names);
  if (names) out.names = names;
  const imgsz = props.imgsz === undefined ? undefined : parseImgsz(props.imgsz);
  if (imgsz) out.imgsz = imgsz;
  for (const key of ['task', 'model', 'version', 'description'] as const) {
    const value = props[key]?.trim();
    if (value) out[key] = value;
  }
  return out;
}
