import { sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execRows, isRetryableTxError } from '../db/rows.js';
import { hourlyCellInsert, hourlyDeviceInsert } from './aggregates-sql.js';
import { InvalidRequestError } from './errors.js';
import { cellOf, cellsOverlappingBox, type GeoBox } from './geo.js';
import { h3ParentSql } from './h3-sql.js';

export interface AggregatesServiceDeps {
  db: Db;
  logger: Logger;
  /** aggregates.h3Resolution. */
  h3Resolution: number;
}

export interface RebuildRange {
  /** Inclusive; rounded down to the hour. Default: from the beginning. */
  from?: Date | undefined;
  /** Exclusive; rounded up to the hour. Default: to the end. */
  to?: Date | undefined;
}

export interface RebuildReport {
  /** The hours rebuilt, [from, to) in UTC; null = unbounded. */
  hours: { from: string | null; to: string | null };
  /** Detections whose h3_cell was missing or at another resolution, filled in first. */
  cellsFilled: number;
  /** Rows written. */
  rows: { hourlyDevice: number; hourlyCell: number };
}

export interface HourlyQuery {
  from: Date;
  to: Date;
  deviceId?: string | undefined;
  /** One class or any of several. */
  class?: string | readonly string[] | undefined;
  /** Rows to return (default all) and to skip, in the (hour, device, class) order. */
  limit?: number | undefined;
  offset?: number | undefined;
}

export interface HourlyRow {
  hour: string;
  deviceId: string;
  class: string;
  events: number;
  avgConfidence: number;
  maxConfidence: number;
}

export interface CellQuery {
  /** Event time [from, to), rounded out to whole hours. */
  from: Date;
  to: Date;
  /** One class or any of several. */
  class?: string | readonly string[] | undefined;
  minEvents?: number | undefined;
  minDevices?: number | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
  /** Roll the cells up to this coarser resolution (default and finest: aggregates.h3Resolution). */
  resolution?: number | undefined;
  /** Only cells (at `resolution`) that overlap this box; InvalidRequestError when it covers too many. */
  bbox?: GeoBox | undefined;
}

export interface CellRow {
  cell: string;
  resolution: number;
  events: number;
  devices: number;
}

const FILL_CHUNK = 5000;
const HOUR_MS = 3_600_000;
const MAX_ATTEMPTS = 3;

/** The rollups (docs/AGGREGATES.md): queries for the API, and the rebuild from detections. */
export class AggregatesService {
  private readonly db: Db;
  private readonly logger: Logger;
  readonly h3Resolution: number;

  constructor(deps: AggregatesServiceDeps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ svc: 'aggregates' });
    this.h3Resolution = deps.h3Resolution;
  }

  /**
   * Recomputes the rollups for the hours in the range from detections: what incremental maintenance
   * produces, idempotently. First fills in h3_cell where it is missing or at another resolution (in
   * chunks, committed as it goes: harmless to repeat); then, in one transaction, deletes the range and
   * inserts it again from a GROUP BY over detections, with the same SQL the ingest statement uses.
   * The rollup tables are locked against concurrent ingest (SHARE ROW EXCLUSIVE) for that transaction:
   * ingests wait, then add their rows on top of the rebuilt figures.
   */
  async rebuild(range: RebuildRange = {}): Promise<RebuildReport> {
    const from = range.from ? floorTo(range.from, HOUR_MS) : null;
    const to = range.to ? ceilTo(range.to, HOUR_MS) : null;
    if (from && to && from >= to) throw new InvalidRequestError(`empty range: from ${range.from?.toISOString()} is not before to ${range.to?.toISOString()}`);

    const cellsFilled = await this.fillCells(from, to);
    const bounds = (col: string): SQL =>
      sql.join(
        [
          sql`true`,
          ...(from ? [sql`${sql.identifier(col)} >= ${from.toISOString()}::timestamptz`] : []),
          ...(to ? [sql`${sql.identifier(col)} < ${to.toISOString()}::timestamptz`] : []),
        ],
        sql` and `,
      );
    const detectionsInRange = sql`(select device_id, ts, class, confidence, h3_cell from detections where ${bounds('ts')})`;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.db.transaction(async (tx) => {
          // The same order the ingest statement takes them in.
          await tx.execute(sql`lock table agg_hourly_device, agg_hourly_cell in share row exclusive mode`);
          await tx.execute(sql`delete from agg_hourly_device where ${bounds('hour')}`);
          await tx.execute(sql`delete from agg_hourly_cell where ${bounds('hour')}`);
          const written = async (q: SQL) => Number((await execRows<{ n: number }>(tx, sql`with x as (${q} returning 1) select count(*)::int as n from x`))[0]?.n ?? 0);
          return {
            hourlyDevice: await written(hourlyDeviceInsert(detectionsInRange, false)),
            hourlyCell: await written(hourlyCellInsert(detectionsInRange, this.h3Resolution, false)),
          };
        });
        const report: RebuildReport = { hours: { from: from?.toISOString() ?? null, to: to?.toISOString() ?? null }, cellsFilled, rows };
        this.logger.info(report, 'aggregates rebuilt');
        return report;
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTxError(err)) throw err;
      }
    }
  }

  /** Per (hour, device, class), oldest first. */
  async hourly(q: HourlyQuery): Promise<HourlyRow[]> {
    const rows = await execRows<{ hour: unknown; device_id: string; class: string; events: number; avg: string | number; max: number }>(
      this.db,
      sql`select hour, device_id, class, events, (confidence_sum / events)::float8 as avg, confidence_max::numeric::float8 as max
          from agg_hourly_device
          where hour >= ${floorTo(q.from, HOUR_MS).toISOString()}::timestamptz and hour < ${q.to.toISOString()}::timestamptz
            ${q.deviceId !== undefined ? sql`and device_id = ${q.deviceId}` : sql``}
            ${classFilter(q.class)}
          order by hour, device_id, class
          ${q.limit !== undefined ? sql`limit ${q.limit}` : sql``} ${q.offset ? sql`offset ${q.offset}` : sql``}`,
    );
    return rows.map((r) => ({
      hour: (r.hour instanceof Date ? r.hour : new Date(r.hour as string)).toISOString(),
      deviceId: r.device_id,
      class: r.class,
      events: Number(r.events),
      avgConfidence: Number(r.avg),
      maxConfidence: Number(r.max),
    }));
  }

  /**
   * Cells with their events and distinct vehicles in [from, to), most events first (then most
   * vehicles, then cell). The rollups are at aggregates.h3Resolution; a coarser `resolution` sums them
   * into their parent cells (the vehicles counted once per parent).
   */
  async cells(q: CellQuery): Promise<CellRow[]> {
    const resolution = q.resolution ?? this.h3Resolution;
    if (!Number.isInteger(resolution) || resolution < 0 || resolution > this.h3Resolution) {
      throw new InvalidRequestError(
        `resolution must be an integer from 0 to ${this.h3Resolution}, got ${resolution}`,
        `the cells are stored at aggregates.h3Resolution = ${this.h3Resolution}; coarser ones are sums of those`,
      );
    }
    const cell = resolution === this.h3Resolution ? sql`cell` : h3ParentSql(sql`cell`, resolution);
    const cover = q.bbox ? cellsOverlappingBox(q.bbox, resolution) : null;
    if (cover && !cover.length) return [];
    const rows = await execRows<{ cell: string; events: number; devices: number }>(
      this.db,
      sql`select ${cell} as cell, sum(events)::int as events, count(distinct device_id)::int as devices
          from agg_hourly_cell
          where resolution = ${this.h3Resolution}
            and hour >= ${floorTo(q.from, HOUR_MS).toISOString()}::timestamptz and hour < ${q.to.toISOString()}::timestamptz
            ${classFilter(q.class)}
            ${cover ? sql`and ${cell} in (select json_array_elements_text(${JSON.stringify(cover)}::json))` : sql``}
          group by 1
          having sum(events) >= ${q.minEvents ?? 1} and count(distinct device_id) >= ${q.minDevices ?? 1}
          order by 2 desc, 3 desc, 1
          limit ${q.limit ?? 100} ${q.offset ? sql`offset ${q.offset}` : sql``}`,
    );
    return rows.map((r) => ({ cell: r.cell, resolution, events: Number(r.events), devices: Number(r.devices) }));
  }

  /**
   * Computes h3_cell (in TS: Postgres has no H3 here) for detections in [from, to) whose cell is
   * missing or at another resolution. The resolution is the second hex digit of an H3 cell string.
   */
  private async fillCells(from: Date | null, to: Date | null): Promise<number> {
    const want = this.h3Resolution.toString(16);
    let filled = 0;
    let afterId = 0;
    for (;;) {
      const rows = await execRows<{ id: string | number; lat: number; lon: number }>(
        this.db,
        sql`select id, lat, lon from detections
            where id > ${afterId} and (h3_cell is null or substr(h3_cell, 2, 1) <> ${want})
              ${from ? sql`and ts >= ${from.toISOString()}::timestamptz` : sql``}
              ${to ? sql`and ts < ${to.toISOString()}::timestamptz` : sql``}
            order by id limit ${FILL_CHUNK}`,
      );
      if (!rows.length) return filled;
      const cells = rows.map((r) => ({ id: Number(r.id), cell: cellOf(r.lat, r.lon, this.h3Resolution) }));
      await this.db.execute(
        sql`update detections d set h3_cell = v.cell from json_to_recordset(${JSON.stringify(cells)}::json) as v(id bigint, cell text) where d.id = v.id`,
      );
      filled += rows.length;
      afterId = cells[cells.length - 1]!.id;
    }
  }
}

function classFilter(value: string | readonly string[] | undefined): SQL {
  if (value === undefined) return sql``;
  const classes = typeof value === 'string' ? [value] : [...value];
  return classes.length ? sql`and class in (${sql.join(classes.map((c) => sql`${c}`), sql`, `)})` : sql``;
}

function floorTo(d: Date, ms: number): Date {
  return new Date(Math.floor(d.getTime() / ms) * ms);
}

function ceilTo(d: Date, ms: number): Date {
  return new Date(Math.ceil(d.getTime() / ms) * ms);
}
