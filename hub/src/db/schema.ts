import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 6 });

export const devices = pgTable('devices', {
  deviceId: text('device_id').primaryKey(),
  /** `scrypt$N$r$p$salt$hash` (base64url parts); the secret itself is never stored. */
  secretHash: text('secret_hash').notNull(),
  createdAt: tstz('created_at').notNull().defaultNow(),
  lastSeenAt: tstz('last_seen_at'),
});

/**
 * Events as received. No foreign key to devices: the broker has already authenticated the
 * device, and a per-row FK check would cost ingest throughput for nothing.
 */
export const detections = pgTable(
  'detections',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    eventId: uuid('event_id').notNull().unique('detections_event_id_key'),
    deviceId: text('device_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    ts: tstz('ts').notNull(),
    clock: text('clock').notNull(),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    accuracyM: real('accuracy_m'),
    speedKmh: real('speed_kmh'),
    headingDeg: real('heading_deg'),
    class: text('class').notNull(),
    confidence: real('confidence').notNull(),
    hits: integer('hits').notNull(),
    bbox: jsonb('bbox').$type<[number, number, number, number]>(),
    frameW: integer('frame_w'),
    frameH: integer('frame_h'),
    model: text('model'),
    batchId: uuid('batch_id').notNull(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
  },
  (t) => [
    // Keyset pagination newest first: WHERE (ts, id) < ($ts, $id) ORDER BY ts DESC, id DESC.
    index('detections_ts_id_idx').on(t.ts.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('detections_device_seq_idx').on(t.deviceId, t.seq),
  ],
);

/**
 * Payloads that can never be valid, kept for forensics. Ids are text, not uuid: a
 * malformed id is often the very reason a row is here.
 */
export const quarantine = pgTable(
  'quarantine',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: text('device_id').notNull(),
    batchId: text('batch_id'),
    seq: bigint('seq', { mode: 'number' }),
    eventId: text('event_id'),
    reason: text('reason').notNull(),
    payload: text('payload').notNull(),
    receivedAt: tstz('received_at').notNull().defaultNow(),
  },
  (t) => [index('quarantine_received_at_idx').on(t.receivedAt.desc())],
);

export const deviceStatus = pgTable('device_status', {
  deviceId: text('device_id').primaryKey(),
  state: text('state').notNull(),
  payload: jsonb('payload').notNull(),
  updatedAt: tstz('updated_at').notNull().default(sql`now()`),
});
