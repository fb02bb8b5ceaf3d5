import type { RoadEvent } from '@roadwatch/shared';
import { sql, type SQL } from 'drizzle-orm';
import { dailyCellInsert, hourlyCellInsert, hourlyDeviceInsert } from './aggregates-sql.js';
import { ON_OPEN_CONFLICT, type SevereAlarmRow } from './alarms-sql.js';
import { cellOf } from './geo.js';

/** aggregates.h3Resolution's default. */
export const DEFAULT_H3_RESOLUTION = 9;

/**
 * One row for json_to_recordset; keys are the detections column names, but for the box: four numbers
 * the statement puts back into the bbox jsonb (json_to_recordset fills a jsonb field ≈ 8 µs a row
 * slower than the statement builds it from four numerics: ~40 against ~18 ms for 2,560 rows).
 */
export interface DetectionRow {
  event_id: string;
  device_id: string;
  batch_id: string;
  seq: number;
  ts: string;
  clock: string;
  lat: number;
  lon: number;
  accuracy_m: number | null;
  speed_kmh: number | null;
  heading_deg: number | null;
  class: string;
  confidence: number;
  hits: number;
  /** bbox [x1, y1, x2, y2], or all four null. */
  bbox_x1: number | null;
  bbox_y1: number | null;
  bbox_x2: number | null;
  bbox_y2: number | null;
  frame_w: number | null;
  frame_h: number | null;
  model: string | null;
  /** H3 cell of (lat, lon) at the hub's aggregates.h3Resolution. */
  h3_cell: string;
}

export interface QuarantineRow {
  seq: number | null;
  event_id: string | null;
  reason: string;
  payload: string;
}

/** The row of one event of a device's batch (the batch's own ids on every row: no copy per statement). */
export function toDetectionRow(e: RoadEvent, batch: { deviceId: string; batchId: string; h3Resolution?: number }): DetectionRow {
  return {
    // Lower case, as Postgres prints a uuid: repeats are found, and RETURNING attributed, by this text.
    event_id: e.eventId.toLowerCase(),
    device_id: batch.deviceId,
    batch_id: batch.batchId,
    seq: e.seq,
    ts: e.ts,
    clock: e.clock,
    lat: e.lat,
    lon: e.lon,
    accuracy_m: e.accuracyM ?? null,
    speed_kmh: e.speedKmh ?? null,
    heading_deg: e.headingDeg ?? null,
    class: e.class,
    confidence: e.confidence,
    hits: e.hits,
    bbox_x1: e.bbox?.[0] ?? null,
    bbox_y1: e.bbox?.[1] ?? null,
    bbox_x2: e.bbox?.[2] ?? null,
    bbox_y2: e.bbox?.[3] ?? null,
    frame_w: e.frame?.w ?? null,
    frame_h: e.frame?.h ?? null,
    model: e.model ?? null,
    h3_cell: cellOf(e.lat, e.lon, batch.h3Resolution ?? DEFAULT_H3_RESOLUTION),
  };
}

/** One device batch of a (possibly coalesced) ingest statement. */
export interface StatementBatch {
  deviceId: string;
  batchId: string;
  /**
   * The valid events this batch contributes. Event ids must be unique across all the batches of one
   * statement (IngestService gives each id to its first occurrence in batch order): the RETURNING is
   * then attributed to batches by event id alone, and no alarm counts an event twice.
   */
  events: DetectionRow[];
  quarantine: QuarantineRow[];
  /** Severe-damage alarms to raise for those of these events that get inserted (the rules decide which). */
  severe?: SevereAlarmRow[];
}

/**
 * The whole batch in ONE statement, hence one implicit transaction and one round trip. See
 * ingestGroupStatement; this is the one-batch form (repeats inside the batch count once).
 */
export function ingestStatement(p: {
  deviceId: string;
  batchId: string;
  now: string;
  events: DetectionRow[];
  quarantine: QuarantineRow[];
  /** The resolution of the events' h3_cell (aggregates.h3Resolution). */
  h3Resolution?: number;
  /** Severe-damage alarms to raise for those of these events that get inserted (the rules decide which). */
  severe?: SevereAlarmRow[];
  /** Maintain the hourly rollups (default); off only for bench:api's reference rate. */
  aggregates?: boolean;
}): SQL {
  const seen = new Set<string>();
  const events = p.events.filter((e) => !seen.has(e.event_id) && seen.add(e.event_id));
  return ingestGroupStatement({
    now: p.now,
    ...(p.h3Resolution !== undefined ? { h3Resolution: p.h3Resolution } : {}),
    ...(p.aggregates !== undefined ? { aggregates: p.aggregates } : {}),
    batches: [{ deviceId: p.deviceId, batchId: p.batchId, events, quarantine: p.quarantine, ...(p.severe ? { severe: p.severe } : {}) }],
  });
}

/**
 * One or more device batches (group commit: IngestService coalesces the batches that queued while
 * earlier statements ran) in ONE statement, hence one implicit transaction, one WAL flush and one
 * round trip: insert the valid events, each with its own device_id and batch_id (ON CONFLICT =
 * idempotent), add the rows really inserted (the RETURNING of that insert, never a duplicate) to the
 * hourly and daily rollups (numbering every vehicle of the statement for the daily bitmaps on first
 * sight), raise severe-damage alarms for the inserted events, quarantine the invalid ones, touch
 * devices.last_seen_at of every device, return the event ids really inserted.
 *
 * Lock order is fixed to avoid deadlocks between overlapping statements, whatever batches they hold:
 * events sorted by event_id first; then the rollup rows, each table sorted by its key (a vehicle's
 * agg_device_numbers row is only written, and locked, the first time it is seen; new vehicles sorted
 * by device_id); then alarms sorted by source; the devices rows last, sorted by device_id
 * (unreferenced data-modifying CTEs run in order once the main query is done), and only when
 * last_seen_at is older than a second, so concurrent batches of one device rarely queue on that row.
 */
export function ingestGroupStatement(p: {
  now: string;
  batches: StatementBatch[];
  /** The resolution of the events' h3_cell (aggregates.h3Resolution). */
  h3Resolution?: number;
  /** Maintain the hourly rollups (default); off only for bench:api's reference rate. */
  aggregates?: boolean;
}): SQL {
  const resolution = p.h3Resolution ?? DEFAULT_H3_RESOLUTION;
  const events = p.batches.length === 1 ? p.batches[0]!.events : p.batches.flatMap((b) => b.events);
  const quarantine = p.batches.flatMap((b) => b.quarantine.map((q) => ({ ...q, device_id: b.deviceId, batch_id: b.batchId })));
  const severe = p.batches.flatMap((b, i) => (b.severe ?? []).map((s) => ({ ...s, b: i, device_id: b.deviceId })));
  const devices = [...new Set(p.batches.map((b) => b.deviceId))].sort();
  return sql`
    with ins as (
      insert into detections (event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg,
                              class, confidence, hits, bbox, frame_w, frame_h, model, h3_cell, batch_id)
      select e.event_id, e.device_id, e.seq, e.ts, e.clock, e.lat, e.lon, e.accuracy_m, e.speed_kmh, e.heading_deg,
             e.class, e.confidence, e.hits,
             case when e.bbox_x1 is not null then jsonb_build_array(e.bbox_x1, e.bbox_y1, e.bbox_x2, e.bbox_y2) end,
             e.frame_w, e.frame_h, e.model, e.h3_cell, e.batch_id
      from json_to_recordset(${JSON.stringify(events)}::json) as e(
        event_id uuid, device_id text, batch_id uuid, seq bigint, ts timestamptz, clock text, lat float8, lon float8, accuracy_m real,
        speed_kmh real, heading_deg real, class text, confidence real, hits int,
        bbox_x1 numeric, bbox_y1 numeric, bbox_x2 numeric, bbox_y2 numeric,
        frame_w int, frame_h int, model text, h3_cell text)
      order by e.event_id
      on conflict (event_id) do nothing
      returning event_id, device_id, ts, class, confidence, h3_cell
    )${p.aggregates === false ? sql`` : sql`, agg_device as (
      ${hourlyDeviceInsert(sql`ins`, true)}
    ), agg_cell as (
      ${hourlyCellInsert(sql`ins`, resolution, true)}
    ), seen as (
      select array(select distinct device_id from ins) as ids
    ), known as (
      select y.device_id, y.n from agg_device_numbers y where y.device_id = any((select ids from seen)::text[])
    ), dn_new as (
      insert into agg_device_numbers as x (device_id)
      select v.device_id from unnest((select ids from seen)) as v(device_id)
      where v.device_id not in (select device_id from known)
      order by v.device_id
      on conflict (device_id) do update set device_id = excluded.device_id
      returning x.device_id, x.n
    ), dn as (
      select device_id, n from dn_new
      union all
      select device_id, n from known
    ), agg_daily as (
      ${dailyCellInsert(sql`(select i.device_id, i.ts, i.class, i.h3_cell, dn.n as device_n from ins i join dn on dn.device_id = i.device_id)`, resolution, sql`(select repeat('0', max(n) + 1)::bit varying from dn)`, true)}
    )`}${severe.length ? sql`, severe as (
      ${severeGroupCte(severe, p.now)}
    )` : sql``}, q as (
      insert into quarantine (device_id, batch_id, seq, event_id, reason, payload)
      select q.device_id, q.batch_id, q.seq, q.event_id, q.reason, q.payload
      from json_to_recordset(${JSON.stringify(quarantine)}::json) as q(device_id text, batch_id text, seq bigint, event_id text, reason text, payload text)
    ), dl as (
      select device_id from devices
      where device_id = any(${sql.param(devices)}::text[])
        and (last_seen_at is null or last_seen_at < ${p.now}::timestamptz - interval '1 second')
      order by device_id
      for update
    ), d as (
      update devices set last_seen_at = ${p.now}::timestamptz
      where device_id in (select device_id from dl)
    )
    select event_id::text as event_id from ins`;
}

/**
 * severeAlarmsCte for several batches (the rows of each carry its batch index `b` and device): one
 * alarm row per source, as ON CONFLICT DO UPDATE needs — counting the inserted events of every batch
 * for that source, with the content (message, details) of the last of those batches and, should it
 * open the alarm, the device of the first — as if the batches had been ingested one after the other.
 */
function severeGroupCte(rows: Array<SevereAlarmRow & { b: number; device_id: string }>, now: string): SQL {
  return sql`insert into alarms as a (type, source, device_id, severity, status, message, details, created_at, updated_at, last_seen_at, count)
      select 'severe_damage', x.source, x.device_id, x.severity, 'active_unack', x.message, x.details,
             ${now}::timestamptz, ${now}::timestamptz, ${now}::timestamptz, x.n
      from (
        select distinct on (s.source) s.source, s.severity, s.message, s.details,
               first_value(s.device_id) over (partition by s.source order by s.b) as device_id,
               (sum(count(*)) over (partition by s.source))::bigint as n
        from json_to_recordset(${JSON.stringify(rows)}::json) as s(b int, device_id text, source text, severity text, message text, details jsonb, event_ids jsonb)
        cross join lateral jsonb_array_elements_text(s.event_ids) as e(event_id)
        join ins on ins.event_id = e.event_id::uuid
        group by s.b, s.device_id, s.source, s.severity, s.message, s.details
        order by s.source, s.b desc
      ) x
      order by x.source
      ${ON_OPEN_CONFLICT}`;
}

/** A whole payload that can never be valid (bad JSON, bad envelope, wrong device). */
export function quarantinePayloadStatement(p: { deviceId: string; batchId: string | null; reason: string; payload: string }): SQL {
  return sql`insert into quarantine (device_id, batch_id, reason, payload) values (${p.deviceId}, ${p.batchId}, ${p.reason}, ${p.payload})`;
}
