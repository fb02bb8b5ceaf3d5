import { ClockSourceSchema, EventBodySchema, MAX_FRAME_SIDE, type EventBody } from '@roadwatch/shared';

const KNOWN_KEYS = new Set(Object.keys(EventBodySchema.shape));
const CLOCKS = new Set<string>(ClockSourceSchema.options);
const TS = EventBodySchema.shape.ts;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const inRange = (v: unknown, min: number, max: number): boolean => isNum(v) && v >= min && v <= max;
const optRange = (v: unknown, min: number, max: number): boolean => v === undefined || inRange(v, min, max);
const optString = (v: unknown, min: number, max: number): boolean => v === undefined || (typeof v === 'string' && v.length >= min && v.length <= max);
const posInt = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) > 0;

/**
 * A fast, conservative copy of EventBodySchema's rules, so the outbox's last-guard validation costs
 * far less than a zod parse on the append hot path. It may say no to a valid body (zod then decides
 * and writes the message); it must never say yes to one zod rejects — body-guard.test.ts checks that
 * against the real schema with generated inputs, so a stricter shared schema fails that test.
 */
export function isValidBody(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const key of Object.keys(v)) if (!KNOWN_KEYS.has(key)) return false;
  const b = v as Record<string, unknown>;
  return (
    typeof b.ts === 'string' &&
    typeof b.clock === 'string' &&
    CLOCKS.has(b.clock) &&
    inRange(b.lat, -90, 90) &&
    inRange(b.lon, -180, 180) &&
    optRange(b.accuracyM, 0, 100_000) &&
    optRange(b.speedKmh, 0, 1_000) &&
    (b.headingDeg === undefined || (inRange(b.headingDeg, 0, 360) && (b.headingDeg as number) < 360)) &&
    typeof b.class === 'string' &&
    b.class.length >= 1 &&
    b.class.length <= 64 &&
    inRange(b.confidence, 0, 1) &&
    (b.hits === undefined || (Number.isSafeInteger(b.hits) && (b.hits as number) >= 1 && (b.hits as number) <= 1_000_000)) &&
    (b.bbox === undefined || isBox(b.bbox)) &&
    (b.frame === undefined || isFrame(b.frame)) &&
    optString(b.model, 1, 128) &&
    TS.safeParse(b.ts).success
  );
}

function isBox(v: unknown): boolean {
  if (!Array.isArray(v) || v.length !== 4) return false;
  for (let i = 0; i < 4; i++) if (!isNum(v[i])) return false; // a loop, not every(): holes must fail
  return true;
}

function isFrame(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const keys = Object.keys(v);
  const f = v as Record<string, unknown>;
  return keys.length === 2 && 'w' in f && 'h' in f && posInt(f.w) && posInt(f.h) && (f.w as number) <= MAX_FRAME_SIDE && (f.h as number) <= MAX_FRAME_SIDE;
}

/** The body as EventBodySchema would return it, for a value isValidBody accepted. */
export function withDefaults(v: unknown): EventBody {
  const b = v as EventBody;
  return b.hits === undefined ? { ...b, hits: 1 } : b;
}
