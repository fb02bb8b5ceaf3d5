import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RoadEvent } from '@roadwatch/shared';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One event as the hub would store it; the benchmark feeds ingest and COPY the same rows. */
export type CopyDetection = RoadEvent & { deviceId: string; batchId: string };

const COLUMNS = [
  'event_id', 'device_id', 'seq', 'ts', 'clock', 'lat', 'lon', 'accuracy_m', 'speed_kmh', 'heading_deg',
  'class', 'confidence', 'hits', 'bbox', 'frame_w', 'frame_h', 'model', 'batch_id',
] as const;

/**
 * The reference rate for the sync benchmark: `COPY detections FROM STDIN` (CSV), the fastest way
 * rows get into Postgres. Dev-only (pg-copy-streams is a dev dependency); not idempotent — a
 * duplicate event_id fails the whole COPY. Returns the number of rows copied.
 */
export async function copyDetections(client: pg.ClientBase, rows: Iterable<CopyDetection> | AsyncIterable<CopyDetection>): Promise<number> {
  const stream = client.query(copyFrom(`copy detections (${COLUMNS.join(', ')}) from stdin with (format csv)`));
  await pipeline(Readable.from(csvLines(rows)), stream);
  return stream.rowCount;
}

async function* csvLines(rows: Iterable<CopyDetection> | AsyncIterable<CopyDetection>): AsyncGenerator<string> {
  let chunk = '';
  for await (const e of rows) {
    chunk += `${[
      e.eventId, csv(e.deviceId), e.seq, e.ts, e.clock, e.lat, e.lon, opt(e.accuracyM), opt(e.speedKmh), opt(e.headingDeg),
      csv(e.class), e.confidence, e.hits, e.bbox ? csv(JSON.stringify(e.bbox)) : '', opt(e.frame?.w), opt(e.frame?.h),
      e.model === undefined ? '' : csv(e.model), e.batchId,
    ].join(',')}\n`;
    if (chunk.length > 64 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Always quoted, so an empty string stays distinct from NULL (an unquoted empty field). */
function csv(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

function opt(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}
