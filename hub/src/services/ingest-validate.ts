import { BatchEnvelopeSchema, EventSchema, formatZodIssues, UuidSchema, type BatchEnvelope, type RoadEvent } from '@roadwatch/shared';

export type EnvelopeCheck =
  | { ok: true; envelope: BatchEnvelope }
  | { ok: false; kind: 'json' | 'envelope' | 'device_mismatch'; reason: string; batchId: string | null };

export type EventCheck = { ok: true; event: RoadEvent } | { ok: false; seq: number | null; eventId: string | null; reason: string };

const BATCH_ID_IN_TEXT = /"batchId"\s*:\s*"([0-9a-fA-F-]{36})"/;

/** Parses and checks everything above the events; each failure names its reason for the quarantine row. */
export function checkEnvelope(topicDeviceId: string, text: string): EnvelopeCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    // A truncated payload may still show its batchId; acking it with an error lets the agent drop the batch.
    const recovered = BATCH_ID_IN_TEXT.exec(text)?.[1];
    return { ok: false, kind: 'json', reason: `not valid JSON: ${(err as Error).message}`, batchId: validUuid(recovered) };
  }
  const result = BatchEnvelopeSchema.safeParse(parsed);
  if (!result.success) {
    const batchId = validUuid((parsed as { batchId?: unknown } | null)?.batchId);
    return { ok: false, kind: 'envelope', reason: formatZodIssues(result.error).join('; '), batchId };
  }
  const envelope = result.data;
  if (envelope.deviceId !== topicDeviceId) {
    return {
      ok: false,
      kind: 'device_mismatch',
      reason: `deviceId in payload (${envelope.deviceId}) does not match topic (${topicDeviceId})`,
      batchId: envelope.batchId,
    };
  }
  return { ok: true, envelope };
}

/**
 * Schema check plus what Postgres would refuse after zod said yes; a statement failing on one
 * row would otherwise fail the whole batch on every redelivery and block the device's queue.
 */
export function checkEvent(raw: unknown): EventCheck {
  const result = EventSchema.safeParse(raw);
  if (!result.success) {
    const r = raw as { seq?: unknown; eventId?: unknown } | null;
    const seq = typeof r?.seq === 'number' && Number.isSafeInteger(r.seq) ? r.seq : null;
    const eventId = typeof r?.eventId === 'string' ? r.eventId.slice(0, 64) : null;
    return { ok: false, seq, eventId, reason: formatZodIssues(result.error).join('; ') };
  }
  const event = result.data;
  const reject = (reason: string): EventCheck => ({ ok: false, seq: event.seq, eventId: event.eventId, reason });
  // The agent's own form (toISOString) is already what the column keeps: the schema's pattern has
  // checked the calendar, so only the year's range is left. Any other form goes through Date.
  let ts = event.ts;
  if (CANONICAL_UTC.test(ts)) {
    if (ts < '1900') return reject('ts: year out of range (1900…9999)');
  } else {
    const time = new Date(ts);
    const year = time.getUTCFullYear();
    if (!(year >= 1900 && year <= 9999)) return reject('ts: year out of range (1900…9999)');
    // Stored in UTC to the millisecond: also folds offsets Postgres would reject (beyond ±15:59).
    ts = time.toISOString();
  }
  if (!isPgText(event.class)) return reject('class: contains a NUL character or invalid Unicode');
  if (event.model !== undefined && !isPgText(event.model)) return reject('model: contains a NUL character or invalid Unicode');
  event.ts = ts;
  zeroTinyReals(event);
  return { ok: true, event };
}

/** `2026-11-22T08:00:58.120Z`: UTC to the millisecond, as Date#toISOString prints years 0000–9999. */
const CANONICAL_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The fields stored in `real` (float4) columns; the schema's upper bounds keep them far below float4's maximum. */
const REAL_FIELDS = ['accuracyM', 'speedKmh', 'headingDeg', 'confidence'] as const;

/**
 * A value too small for float4 (|v| < ~7e-46, e.g. 5e-324) is 0 at the precision the column keeps,
 * but Postgres refuses it ("out of range for type real") instead of rounding it: store 0. In place:
 * the event is zod's own copy of what arrived.
 */
function zeroTinyReals(event: RoadEvent): void {
  for (const field of REAL_FIELDS) {
    const value = event[field];
    if (value !== undefined && value !== 0 && Math.fround(value) === 0) event[field] = 0;
  }
}

function validUuid(value: unknown): string | null {
  return UuidSchema.safeParse(value).success ? (value as string) : null;
}

const NUL_OR_LONE_SURROGATE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NUL_OR_LONE_SURROGATE_G = new RegExp(NUL_OR_LONE_SURROGATE.source, 'g');

function isPgText(value: string): boolean {
  return !NUL_OR_LONE_SURROGATE.test(value);
}

/** Quarantine keeps what arrived, made storable: NUL shown as `\u0000`, lone surrogates as U+FFFD. */
export function toPgText(value: string): string {
  if (isPgText(value)) return value;
  return value.replace(NUL_OR_LONE_SURROGATE_G, (c) => (c === '\u0000' ? '\\u0000' : '\ufffd'));
}

/** True when some string or key inside a parsed JSON value could not be stored in Postgres text/jsonb. */
export function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return !isPgText(value);
  if (Array.isArray(value)) return value.some(hasUnstorableText);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => !isPgText(k) || hasUnstorableText(v));
  }
  return false;
}
