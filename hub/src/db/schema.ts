import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgSequence,
  pgTable,
  primaryKey,
  real,
  smallint,
  text,
  timestamp,
  uniqueIndex,
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
    /**
     * H3 cell of (lat, lon) at the hub's `aggregates.h3Resolution`, computed at ingest (Postgres has no
     * H3 here). Null for rows stored before it existed; `roadwatch-hub aggregates rebuild` fills it in.
     */
    h3Cell: text('h3_cell'),
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
  /** `{sensor: ISO time}`: since when each sensor has reported `fault` without a break (for the sensor-fault rule). */
  sensorFaultSince: jsonb('sensor_fault_since').$type<Record<string, string>>().notNull().default({}),
});

export const ALARM_TYPES = ['severe_damage', 'hotspot', 'device_offline', 'outbox_backlog', 'sensor_fault'] as const;
export const ALARM_SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export const ALARM_STATUSES = ['active_unack', 'active_ack', 'cleared'] as const;

const inList = (column: string, values: readonly string[]) => sql.raw(`${column} in (${values.map((v) => `'${v}'`).join(', ')})`);

/**
 * Alarms (lifecycle as ThingsBoard: active_unack → active_ack → cleared, or active_* → cleared).
 * At most ONE open (not cleared) alarm per (type, source), enforced by the partial unique index:
 * raising is `INSERT … ON CONFLICT (type, source) WHERE status <> 'cleared' DO UPDATE`, so
 * concurrent ingests (or hub replicas) cannot open two.
 */
export const alarms = pgTable(
  'alarms',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    /** What the alarm is about: an H3 cell (severe_damage, hotspot), a device id, or `<deviceId>/<sensor>`. */
    source: text('source').notNull(),
    /** The device concerned (for severe_damage the vehicle that opened it, details.deviceId the last reporter; null for hotspot), for filtering by device. */
    deviceId: text('device_id'),
    severity: text('severity').notNull(),
    status: text('status').notNull().default('active_unack'),
    message: text('message').notNull(),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: tstz('created_at').notNull().defaultNow(),
    updatedAt: tstz('updated_at').notNull().defaultNow(),
    /** When the rule last fired with something new for this open alarm. */
    lastSeenAt: tstz('last_seen_at').notNull().defaultNow(),
    /** Times the rule fired while the alarm was open (1 when opened). */
    count: integer('count').notNull().default(1),
    ackedAt: tstz('acked_at'),
    ackedBy: text('acked_by'),
    clearedAt: tstz('cleared_at'),
    clearedBy: text('cleared_by'),
    /**
     * True for the newest alarm (created_at, then id) of its (type, source) — the current state of the
     * source — false for those a newer alarm superseded. Kept by the trigger alarms_latest_sync (migration
     * 0002) on every insert, delete and change of type, source or created_at, whatever wrote the row.
     */
    latest: boolean('latest').notNull().default(true),
  },
  (t) => [
    uniqueIndex('alarms_open_type_source_key').on(t.type, t.source).where(sql`status <> 'cleared'`),
    // The newest alarm of one (type, source), and the one marked latest, for the trigger that keeps `latest`.
    index('alarms_type_source_created_idx').on(t.type, t.source, t.createdAt.desc(), t.id.desc()),
    index('alarms_latest_type_source_idx').on(t.type, t.source).where(sql`latest`),
    index('alarms_created_idx').on(t.createdAt.desc(), t.id.desc()),
    // `GET /api/v1/alarms?latest=true`: the current alarm of every source, newest first, without reading the history.
    index('alarms_latest_created_idx').on(t.createdAt.desc(), t.id.desc()).where(sql`latest`),
    index('alarms_status_severity_created_idx').on(t.status, t.severity, t.createdAt.desc()),
    index('alarms_device_created_idx').on(t.deviceId, t.createdAt.desc()),
    check('alarms_type_check', inList('type', ALARM_TYPES)),
    check('alarms_severity_check', inList('severity', ALARM_SEVERITIES)),
    check('alarms_status_check', inList('status', ALARM_STATUSES)),
  ],
);

/**
 * Hourly rollups, maintained in the ingest statement for newly inserted rows only and rebuilt from
 * detections by `roadwatch-hub aggregates rebuild`. Hours are UTC, by event time (ts), not receive time.
 * confidence_sum is numeric so that sums are exact and independent of the order rows arrived in.
 */
export const aggHourlyDevice = pgTable(
  'agg_hourly_device',
  {
    hour: tstz('hour').notNull(),
    deviceId: text('device_id').notNull(),
    class: text('class').notNull(),
    events: integer('events').notNull(),
    confidenceSum: numeric('confidence_sum').notNull(),
    confidenceMax: real('confidence_max').notNull(),
  },
  (t) => [
    primaryKey({ name: 'agg_hourly_device_pkey', columns: [t.hour, t.deviceId, t.class] }),
    // One vehicle's hours (GET /api/v1/aggregates/hourly?deviceId=…): the key leads with the hour, which would read every vehicle's.
    index('agg_hourly_device_device_hour_idx').on(t.deviceId, t.hour, t.class),
  ],
);

/**
 * Per (H3 cell, hour, device, class). The device dimension makes "≥ N events from ≥ M distinct
 * vehicles in one cell within D days" exact (a sum and a count(distinct device_id) over the window's
 * hours) without a second table; per-cell figures sum over devices. A vehicle passes a cell in
 * seconds, so the device dimension adds few rows. The primary key leads with the cell (the hotspot
 * check after each ingest looks up the cells it touched); the BRIN index on hour serves the timer's
 * scan of the window and costs next to nothing to maintain.
 */
export const aggHourlyCell = pgTable(
  'agg_hourly_cell',
  {
    /** H3 cell index (hex string, as h3-js prints it). */
    cell: text('cell').notNull(),
    resolution: smallint('resolution').notNull(),
    hour: tstz('hour').notNull(),
    deviceId: text('device_id').notNull(),
    class: text('class').notNull(),
    events: integer('events').notNull(),
    confidenceSum: numeric('confidence_sum').notNull(),
    confidenceMax: real('confidence_max').notNull(),
  },
  (t) => [
    primaryKey({ name: 'agg_hourly_cell_pkey', columns: [t.cell, t.resolution, t.hour, t.deviceId, t.class] }),
    index('agg_hourly_cell_hour_brin').using('brin', t.hour),
  ],
);

/** `bit varying`: a set of small integers, bit n (counted from the left, from 0) standing for n. */
const varbit = customType<{ data: string; driverData: string }>({ dataType: () => 'bit varying' });

/**
 * A small number for every vehicle that has events in the rollups: its bit in agg_daily_cell.devices.
 * Numbers are handed out on first sight (the ingest statement, the rebuild, migration 0002) and never
 * change or get reused, so the bitmaps stay valid; rebuilds keep them.
 */
export const aggDeviceNumbers = pgTable('agg_device_numbers', {
  deviceId: text('device_id').primaryKey(),
  n: integer('n').notNull().unique('agg_device_numbers_n_key').generatedByDefaultAsIdentity({ startWith: 0, minValue: 0 }),
});

/**
 * Per (H3 cell, UTC day of event time, class): events, and the set of vehicles as a bitmap of their
 * agg_device_numbers (bit n set = vehicle n had an event there that day; length = highest n + 1). A
 * month over a city is ~30 rows a cell instead of one a vehicle and hour, and distinct vehicles over
 * any run of days are exact: bit_count of the OR of the days' bitmaps. Maintained in the ingest
 * statement and rebuilt like the hourly rollups; the cells API reads whole days here and the hours at
 * either end of its range from agg_hourly_cell.
 */
export const aggDailyCell = pgTable(
  'agg_daily_cell',
  {
    cell: text('cell').notNull(),
    resolution: smallint('resolution').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    class: text('class').notNull(),
    events: integer('events').notNull(),
    devices: varbit('devices').notNull(),
  },
  (t) => [
    primaryKey({ name: 'agg_daily_cell_pkey', columns: [t.cell, t.resolution, t.day, t.class] }),
    index('agg_daily_cell_day_idx').on(t.day),
  ],
);

/**
 * Bumped (nextval) after every commit that changed the cell rollups: an ingest that stored events, a
 * rebuild. The cells API keeps answers while it has not moved (AggregatesService.cells).
 */
export const aggChanges = pgSequence('agg_changes', { startWith: 1 });

export const API_TOKEN_SCOPES = ['read', 'ack', 'admin'] as const;

/** API tokens: only a sha256 of a 256-bit random token is kept; `prefix` (its first characters) identifies it in lists. */
export const apiTokens = pgTable(
  'api_tokens',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique('api_tokens_name_key'),
    scope: text('scope').notNull(),
    tokenHash: text('token_hash').notNull().unique('api_tokens_token_hash_key'),
    prefix: text('prefix').notNull(),
    createdAt: tstz('created_at').notNull().defaultNow(),
    lastUsedAt: tstz('last_used_at'),
    revokedAt: tstz('revoked_at'),
  },
  (t) => [check('api_tokens_scope_check', inList('scope', API_TOKEN_SCOPES))],
);
