import { UserError } from '@roadwatch/shared';
import { and, desc, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { detections } from '../db/schema.js';
import type { DetectionFilter, DetectionItem, DetectionPage, DetectionQuery } from './ports.js';

export interface DetectionQueryDeps {
  db: Db;
  logger: Logger;
}

/** A cursor that was not made by this service (or was damaged); the HTTP layer answers 400. */
export class InvalidCursorError extends UserError {
  readonly code = 'invalid_cursor';
  constructor(reason: string) {
    super(`invalid cursor: ${reason}`, 'pass the nextCursor of a previous page unchanged, or omit cursor to start from the newest');
    this.name = 'InvalidCursorError';
  }
}

interface Cursor {
  /** Exact Postgres timestamp text (microseconds, UTC): a JS Date would round and skip or repeat rows. */
  ts: string;
  id: string;
}

const CURSOR_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function filterConditions(f: DetectionFilter): SQL[] {
  const d = detections;
  const out: SQL[] = [];
  if (f.from) out.push(gte(d.ts, f.from));
  if (f.to) out.push(lt(d.ts, f.to));
  if (f.classes?.length) out.push(inArray(d.class, [...f.classes]));
  if (f.deviceId !== undefined) out.push(sql`${d.deviceId} = ${f.deviceId}`);
  if (f.bbox) {
    const b = f.bbox;
    out.push(sql`${d.lon} between ${b.minLon} and ${b.maxLon} and ${d.lat} between ${b.minLat} and ${b.maxLat}`);
  }
  // confidence is a real: compare as real, or 0.7 stored would be below 0.7 asked.
  if (f.minConfidence !== undefined) out.push(sql`${d.confidence} >= ${f.minConfidence}::real`);
  return out;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(value: string): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError('not a cursor this API issued');
  }
  const c = parsed as Partial<Cursor> | null;
  if (!c || typeof c.ts !== 'string' || !CURSOR_TS.test(c.ts) || Number.isNaN(Date.parse(c.ts))) {
    throw new InvalidCursorError('bad timestamp');
  }
  if (typeof c.id !== 'string' || !/^\d{1,18}$/.test(c.id)) throw new InvalidCursorError('bad id');
  return { ts: c.ts, id: c.id };
}

/**
 * Newest first by (ts, id); each page seeks straight into detections_ts_id_idx, so deep pages cost what
 * the first does. Filters are conditions on the same walk: the cursor is a position in (ts, id), so
 * the next page continues where the last one stopped whatever the filters (pass the same ones).
 * `to` seeks into the index too; very selective filters (a rare class) read more index entries per page.
 */
export class DetectionQueryService implements DetectionQuery {
  private readonly db: Db;

  constructor(deps: DetectionQueryDeps) {
    this.db = deps.db;
  }

  async list(params: { limit: number; cursor?: string | undefined } & DetectionFilter): Promise<DetectionPage> {
    const after = params.cursor ? decodeCursor(params.cursor) : null;
    const d = detections;
    const rows = await this.db
      .select({
        id: d.id,
        eventId: d.eventId,
        deviceId: d.deviceId,
        seq: d.seq,
        ts: d.ts,
        cursorTs: sql<string>`to_char(${d.ts} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
        clock: d.clock,
        lat: d.lat,
        lon: d.lon,
        accuracyM: d.accuracyM,
        speedKmh: d.speedKmh,
        headingDeg: d.headingDeg,
        class: d.class,
        confidence: d.confidence,
        hits: d.hits,
        bbox: d.bbox,
        frameW: d.frameW,
        frameH: d.frameH,
        model: d.model,
        receivedAt: d.receivedAt,
      })
      .from(d)
      .where(and(...(after ? [sql`(${d.ts}, ${d.id}) < (${after.ts}::timestamptz, ${after.id}::bigint)`] : []), ...filterConditions(params)))
      .orderBy(desc(d.ts), desc(d.id))
      .limit(params.limit + 1);

    const page = rows.slice(0, params.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > params.limit && last ? encodeCursor({ ts: last.cursorTs, id: String(last.id) }) : null;
    const items: DetectionItem[] = page.map((r) => ({
      id: String(r.id),
      eventId: r.eventId,
      deviceId: r.deviceId,
      seq: r.seq,
      ts: r.ts.toISOString(),
      clock: r.clock,
      lat: r.lat,
      lon: r.lon,
      accuracyM: r.accuracyM,
      speedKmh: r.speedKmh,
      headingDeg: r.headingDeg,
      class: r.class,
      confidence: r.confidence,
      hits: r.hits,
      bbox: r.bbox ?? null,
      frame: r.frameW !== null && r.frameH !== null ? { w: r.frameW, h: r.frameH } : null,
      model: r.model,
      receivedAt: r.receivedAt.toISOString(),
    }));
    return { items, nextCursor };
  }
}
