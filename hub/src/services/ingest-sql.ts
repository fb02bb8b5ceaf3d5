import type { RoadEvent } from '@roadwatch/shared';
import { sql, type SQL } from 'drizzle-orm';
import { dailyCellInsert, hourlyCellInsert, hourlyDeviceInsert } from './aggregates-sql.js';
import { severeAlarmsCte, type SevereAlarmRow } from './alarms-sql.js';
import { cellOf } from './geo.js';

/** aggregates.h3Resolution's default. */
export const DEFAULT_H3_RESOLUTION = 9;

/** One row for json_to_recordset; keys are the detections column names. */
export interface DetectionRow {
  event_id: string;
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
  bbox: [number, number, number, number] | null;
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

export function toDetectionRow(e: RoadEvent, h3Resolution = DEFAULT_H3_RESOLUTION): DetectionRow {
  return {
    event_id: e.eventId,
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
    bbox: e.bbox ?? null,
    frame_w: e.frame?.w ?? null,
    frame_h: e.frame?.h ?? null,
    model: e.model ?? null,
    h3_cell: cellOf(e.lat, e.lon, h3Resolution),
  };
}

/**
 * The whole batch in ONE statement, hence one implicit transaction and one round trip:
 * insert the valid events (ON CONFLICT = idempotent, also for repeats inside the batch),
 * add the rows really inserted (the RETURNING of that insert, never a duplicate) to the hourly
 * and daily rollups (numbering the vehicle for the daily bitmaps on first sight), raise
 * severe-damage alarms for the inserted events among `severe`, quarantine the invalid ones, touch
 * devices.last_seen_at, return the event ids really inserted.
 *
 * Lock order is fixed to avoid deadlocks between overlapping batches: events sorted by event_id
 * first; then the rollup rows, each table sorted by its key (the vehicle's agg_device_numbers row is
 * only written, and locked, the first time it is seen); then alarms sorted by source; the devices
 * row last (unreferenced data-modifying CTEs run in order once the main query is done), and only
 * when last_seen_at is older than a second, so concurrent batches of one device rarely queue on
 * that row.
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
  const resolution = p.h3Resolution ?? DEFAULT_H3_RESOLUTION;
  const severe = p.severe ?? [];
  return sql`
    with ins as (
      insert into detections (event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg,
                              class, confidence, hits, bbox, frame_w, frame_h, model, h3_cell, batch_id)
      select e.event_id, ${p.deviceId}, e.seq, e.ts, e.clock, e.lat, e.lon, e.accuracy_m, e.speed_kmh, e.heading_deg,
             e.class, e.confidence, e.hits, e.bbox, e.frame_w, e.frame_h, e.model, e.h3_cell, ${p.batchId}::uuid
      from json_to_recordset(${JSON.stringify(p.events)}::json) as e(
        event_id uuid, seq bigint, ts timestamptz, clock text, lat float8, lon float8, accuracy_m real,
        speed_kmh real, heading_deg real, class text, confidence real, hits int, bbox jsonb,
        frame_w int, frame_h int, model text, h3_cell text)
      order by e.event_id
      on conflict (event_id) do nothing
      returning event_id, device_id, ts, class, confidence, h3_cell
    )${p.aggregates === false ? sql`` : sql`, agg_device as (
      ${hourlyDeviceInsert(sql`ins`, true)}
    ), agg_cell as (
      ${hourlyCellInsert(sql`ins`, resolution, true)}
    ), dn_new as (
      insert into agg_device_numbers as x (device_id)
      select ${p.deviceId} where exists (select 1 from ins) and not exists (select 1 from agg_device_numbers where device_id = ${p.deviceId})
      on conflict (device_id) do update set device_id = excluded.device_id
      returning n
    ), dn as (
      select n from dn_new union all select n from agg_device_numbers where device_id = ${p.deviceId} limit 1
    ), agg_daily as (
      ${dailyCellInsert(sql`(select i.device_id, i.ts, i.class, i.h3_cell, dn.n as device_n from ins i cross join dn)`, resolution, sql`(select repeat('0', n + 1)::bit varying from dn)`, true)}
    )`}${severe.length ? sql`, severe as (
      ${severeAlarmsCte(severe, p.deviceId, p.now)}
    )` : sql``}, q as (
      insert into quarantine (device_id, batch_id, seq, event_id, reason, payload)
      select ${p.deviceId}, ${p.batchId}, q.seq, q.event_id, q.reason, q.payload
      from json_to_recordset(${JSON.stringify(p.quarantine)}::json) as q(seq bigint, event_id text, reason text, payload text)
    ), d as (
      update devices set last_seen_at = ${p.now}::timestamptz
      where device_id = ${p.deviceId}
        and (last_seen_at is null or last_seen_at < ${p.now}::timestamptz - interval '1 second')
    )
    select event_id::text as event_id from ins`;
}

/** A whole payload that can never be valid (bad JSON, bad envelope, wrong device). */
export function quarantinePayloadStatement(p: { deviceId: string; batchId: string | null; reason: string; payload: string }): SQL {
  return sql`insert into quarantine (device_id, batch_id, reason, payload) values (${p.deviceId}, ${p.batchId}, ${p.reason}, ${p.payload})`;
}
