import { newBatchId, newEventId, PROTOCOL_VERSION, type RoadEvent, type Status } from '@roadwatch/shared';
import fc from 'fast-check';
import { makeBatch, makeEvent } from './fixtures.js';

/**
 * Near-valid device payloads for the fuzz tests (docs/TESTING.md "Fuzzing"): valid batch envelopes
 * and status messages, mutated as JSON (a value replaced by a nasty one, a key dropped or added, an
 * array element doubled) and as text (truncated, bytes inserted, padded past the size limit).
 *
 * The arbitraries describe a payload abstractly — which event slot, which mutation at which node —
 * and `buildPayload` makes the concrete bytes inside the property. Event and batch ids are drawn
 * fresh for every run (a database shared by all runs must not see one run's ids again in the
 * next), so a seed replays the same structure: which events share ids, what is mutated and how.
 */

/** Values that have broken JSON handlers: wrong types, NaN-ish strings, huge and negative numbers, bad unicode, odd times. */
export const NASTY_VALUE: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1e12,
    -1e12,
    1e308,
    -1e308,
    5e-324,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    2 ** 63,
    0.1,
    360,
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    'undefined',
    'null',
    '1e12',
    '-1',
    '0x10',
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u2066',
    '🛣️🕳️',
    'x'.repeat(200),
    '2026-13-45T99:99:99Z',
    '2026-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00.000Z',
    '1899-12-31T23:59:59.999Z',
    '9999-12-31T23:59:59.999Z',
    '+275760-09-13T00:00:00.000Z',
    '2026-11-22T08:00:00+23:59',
    '2026-11-22T08:00:00-23:59',
    '2026-11-22T08:00:00.123456789Z',
    '2026-11-22',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    'veh-1',
    '../veh-1',
    'veh/1',
    '#',
    'pothole',
    'fault',
    'online',
    'offline',
    [],
    {},
    [null],
    [1, 2, 3],
    [0, 0, 0, 0],
    [1e308, -1e308, 0, 0],
    { w: 0, h: -1 },
    { w: 1e12, h: 1e12 },
    { __proto__: null },
    { constructor: 'x' },
  ),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** One change to the parsed JSON: `at` picks a node (modulo the number of nodes), depth first. */
export type JsonMutation =
  | { op: 'set'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'double'; at: number };

/** One change to the text after it was serialized. */
export type TextMutation =
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'wrap'; prefix: string; suffix: string }
  | { op: 'pad'; bytes: number }
  | { op: 'deep'; depth: number };

export const JSON_MUTATION: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: NASTY_VALUE }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', 'eventId', 'ts', '', '\u0000', 'v'), fc.string({ maxLength: 8 })),
      value: NASTY_VALUE,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('double' as const), at: fc.nat() }) },
);

const JUNK_TEXT = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-', ',', ']', '}', '{', '"', '\\', '\\u', '\\ud800', '\u0000', '\uffff', '\ud83d', '1e999', 'null', '/*', '\n', '\u2028'),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

export const TEXT_MUTATION: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: JUNK_TEXT }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 10 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('wrap' as const),
      prefix: fc.constantFrom('', '[', '\ufeff', ' ', '{"a":'),
      suffix: fc.constantFrom('', ']', ' ', '}', '\u0000', ',{}'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pad' as const), bytes: fc.integer({ min: 1, max: 256 * 1024 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep' as const), depth: fc.integer({ min: 100, max: 20_000 }) }) },
);

/** What one payload is: valid, or a valid one with mutations applied. */
export interface PayloadPlan {
  json: readonly JsonMutation[];
  text: readonly TextMutation[];
}

export const VALID_PLAN: PayloadPlan = { json: [], text: [] };

export const MUTATED_PLAN: fc.Arbitrary<PayloadPlan> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ json: fc.array(JSON_MUTATION, { minLength: 1, maxLength: 3 }), text: fc.constant([]) }) },
  { weight: 2, arbitrary: fc.record({ json: fc.constant([]), text: fc.array(TEXT_MUTATION, { minLength: 1, maxLength: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ json: fc.array(JSON_MUTATION, { maxLength: 2 }), text: fc.array(TEXT_MUTATION, { maxLength: 2 }) }) },
);

/** An event in a batch: `slot` names its id within one run (the same slot twice is a resend); `fields` override valid ones. */
export interface EventPlan {
  slot: number;
  fields: Partial<RoadEvent>;
}

const VALID_FIELDS: fc.Arbitrary<Partial<RoadEvent>> = fc.record(
  {
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
    class: fc.constantFrom('D00', 'D10', 'D20', 'D40', 'pothole'),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    hits: fc.integer({ min: 1, max: 1_000_000 }),
    ts: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    headingDeg: fc.double({ min: 0, max: 359.9, noNaN: true }),
    speedKmh: fc.double({ min: 0, max: 1000, noNaN: true }),
  },
  { requiredKeys: [] },
);

export const EVENT_PLAN = (slots: number): fc.Arbitrary<EventPlan> => fc.record({ slot: fc.nat(slots - 1), fields: VALID_FIELDS });

/** A batch: its events and how the payload is spoiled (VALID_PLAN: not at all). */
export interface BatchPlan {
  events: EventPlan[];
  plan: PayloadPlan;
}

export const batchPlan = (slots: number, plan: fc.Arbitrary<PayloadPlan>): fc.Arbitrary<BatchPlan> =>
  fc.record({ events: fc.array(EVENT_PLAN(slots), { minLength: 1, maxLength: 5 }), plan });

export const STATUS_BASE: fc.Arbitrary<Status> = fc.record(
  {
    v: fc.constant(PROTOCOL_VERSION),
    state: fc.constantFrom('online', 'offline'),
    ts: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
    agentVersion: fc.constantFrom('0.1.0', '1.2.3-beta'),
    queueDepth: fc.nat(),
    queueBytes: fc.nat(),
    oldestUnsyncedAgeS: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true }), { nil: null }),
    lastAckAt: fc.option(fc.constant('2026-11-22T08:00:00.000Z'), { nil: null }),
    evictedTotal: fc.nat(),
    sensors: fc.dictionary(fc.constantFrom('camera', 'gps', 'detector', 'outbox'), fc.constantFrom('ok', 'degraded', 'fault', 'absent')),
    faults: fc.array(fc.string({ maxLength: 40 }), { maxLength: 3 }),
    detector: fc.record({ p95Ms: fc.option(fc.double({ min: 0, max: 1e4, noNaN: true }), { nil: null }), fps: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }) }),
  },
  { requiredKeys: ['v', 'state'] },
) as fc.Arbitrary<Status>;

/** A status message: a valid one, maybe spoiled. */
export interface StatusPlan {
  status: Status;
  plan: PayloadPlan;
}

export const statusPlan = (plan: fc.Arbitrary<PayloadPlan>): fc.Arbitrary<StatusPlan> => fc.record({ status: STATUS_BASE, plan });

/** Fresh ids for the slots of one run. */
export function idTable(slots: number): string[] {
  return Array.from({ length: slots }, () => newEventId());
}

/** The batch's envelope, as a valid sender would make it (`ids` from idTable; every event its own seq). */
export function batchEnvelope(deviceId: string, batch: BatchPlan, ids: string[], batchId = newBatchId()) {
  const events = batch.events.map((e) => makeEvent({ ...e.fields, eventId: ids[e.slot]!, seq: e.slot + 1 }));
  return makeBatch(deviceId, events, batchId);
}

/** Applies the plan to a JSON value: the payload bytes. */
export function buildPayload(value: unknown, plan: PayloadPlan): string {
  let v: unknown = structuredClone(value);
  for (const m of plan.json) v = mutateJson(v, m);
  let text = JSON.stringify(v) ?? 'undefined';
  for (const m of plan.text) text = mutateText(text, m);
  return text;
}

/** Nodes of a JSON value, depth first: [parent, key] pairs (the root has no parent). */
function nodes(value: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((child, i) => {
        out.push([v, i]);
        walk(child);
      });
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        out.push([v as Record<string, unknown>, k]);
        walk(child);
      }
    }
  };
  walk(value);
  return out;
}

function mutateJson(root: unknown, m: JsonMutation): unknown {
  const all = nodes(root);
  if (all.length === 0) return m.op === 'set' ? m.value : root;
  const [parent, key] = all[m.at % all.length]!;
  const value = 'value' in m ? structuredClone(m.value) : null;
  switch (m.op) {
    case 'set':
      (parent as Record<string | number, unknown>)[key] = value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 'add': {
      const target = (parent as Record<string | number, unknown>)[key];
      if (Array.isArray(target)) target.push(value);
      else if (target !== null && typeof target === 'object') Object.defineProperty(target, m.key, { value, enumerable: true, configurable: true, writable: true });
      else if (Array.isArray(parent)) parent.push(value);
      else Object.defineProperty(parent, m.key, { value, enumerable: true, configurable: true, writable: true });
      break;
    }
    case 'double':
      if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(parent[key as number]));
      else {
        const target = parent[key as string];
        if (Array.isArray(target) && target.length) target.push(structuredClone(target[0]));
      }
      break;
  }
  return root;
}

function mutateText(text: string, m: TextMutation): string {
  switch (m.op) {
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.length);
    }
    case 'wrap':
      return m.prefix + text + m.suffix;
    case 'pad':
      // Whitespace is valid JSON: a payload that parses but is over the size limit, or nearly so.
      return text + ' '.repeat(m.bytes);
    case 'deep':
      return '['.repeat(m.depth) + text + ']'.repeat(m.depth);
  }
}
