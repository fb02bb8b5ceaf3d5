import type { RoadEvent } from '@roadwatch/shared';
import { sql, type SQL } from 'drizzle-orm';

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
}

export interface QuarantineRow {
  seq: number | null;
  event_id: string | null;
  reason: string;
  payload: string;
}

export function toDetectionRow(e: RoadEvent): DetectionRow {
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
  };
}

/**
 * The whole batch in ONE statement, hence one implicit transaction and one round trip:
 * insert the valid events (ON CONFLICT = idempotent, also for repeats inside the batch),
 * quarantine the invalid ones, touch devices.last_seen_at, return the event ids really inserted.
 *
 * Lock order is fixed to avoid deadlocks between overlapping batches: events sorted by
 * event_id first; the devices row is updated after them (unreferenced data-modifying CTEs run
 * once the main query is done), and only when last_seen_at is older than a second, so
 * concurrent batches of one device rarely queue on that row.
 */
export function ingestStatement(p: {
  deviceId: string;
  batchId: string;
  now: string;
  events: DetectionRow[];
  quarantine: QuarantineRow[];
}): SQL {
  return sql`
    with ins as (
      insert into detections (event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg,
                              class, confidence, hits, bbox, frame_w, frame_h, model, batch_id)
      select e.event_id, ${p.deviceId}, e.seq, e.ts, e.clock, e.lat, e.lon, e.accuracy_m, e.speed_kmh, e.heading_deg,
             e.class, e.confidence, e.hits, e.bbox, e.frame_w, e.frame_h, e.model, ${p.batchId}::uuid
      from json_to_recordset(${JSON.stringify(p.events)}::json) as e(
        event_id uuid, seq bigint, ts timestamptz, clock text, lat float8, lon float8, accuracy_m real,
        speed_kmh real, heading_deg real, class text, confidence real, hits int, bbox jsonb,
        frame_w int, frame_h int, model text)
      order by e.event_id
      on conflict (event_id) do nothing
      returning event_id
    ), q as (
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
