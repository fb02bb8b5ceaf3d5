import { sql, type SQL } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { execRows, isRetryableTxError } from '../db/rows.js';
import { aggregatesChanged, aggregatesVersion, dailyCellInsert, hourlyCellInsert, hourlyDeviceInsert } from './aggregates-sql.js';
import { AnswerCache } from './answer-cache.js';
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
  /** The days whose agg_daily_cell rows were rebuilt (those the hours touch, whole), [from, to) as YYYY-MM-DD; null = unbounded. */
  days: { from: string | null; to: string | null };
  /** Detections whose h3_cell was missing or at another resolution, filled in first. */
  cellsFilled: number;
  /** Rows written. */
  rows: { hourlyDevice: number; hourlyCell: number; dailyCell: number };
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
const DAY_MS = 86_400_000;
const MAX_ATTEMPTS = 3;
/** Cell answers kept (distinct queries), and for how long at most even when agg_changes has not moved. */
const CELL_CACHE_ENTRIES = 64;
const CELL_CACHE_MAX_AGE_MS = 60_000;
/** Up to this many cells, a bbox's cover is a row condition on agg_hourly_cell (see computeCells). */
const FEW_CELLS = 256;

/** The rollups (docs/AGGREGATES.md): queries for the API, and the rebuild from detections. */
export class AggregatesService {
  private readonly db: Db;
  private readonly logger: Logger;
  readonly h3Resolution: number;
  private readonly cellAnswers = new AnswerCache<CellRow[]>(CELL_CACHE_ENTRIES, CELL_CACHE_MAX_AGE_MS);
  private readonly hourlyAnswers = new AnswerCache<HourlyRow[]>(CELL_CACHE_ENTRIES, CELL_CACHE_MAX_AGE_MS);

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

    // The daily cell rows of every day the hours touch are rebuilt whole, from all of that day's detections.
    const fromDay = from ? floorTo(from, DAY_MS) : null;
    const toDay = to ? ceilTo(to, DAY_MS) : null;
    const cellsFilled = await this.fillCells(from, to);
    const bounds = (col: string, lo: Date | null, hi: Date | null, type = 'timestamptz'): SQL =>
      sql.join(
        [
          sql`true`,
          ...(lo ? [sql`${sql.identifier(col)} >= ${lo.toISOString()}::${sql.raw(type)}`] : []),
          ...(hi ? [sql`${sql.identifier(col)} < ${hi.toISOString()}::${sql.raw(type)}`] : []),
        ],
        sql` and `,
      );
    const detectionsInRange = sql`(select device_id, ts, class, confidence, h3_cell from detections where ${bounds('ts', from, to)})`;
    const detectionsInDays = sql`(select d.device_id, d.ts, d.class, d.h3_cell, x.n as device_n
      from detections d join agg_device_numbers x on x.device_id = d.device_id where ${bounds('ts', fromDay, toDay)})`;
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.db.transaction(async (tx) => {
          // The same order the ingest statement takes them in.
          await tx.execute(sql`lock table agg_hourly_device, agg_hourly_cell, agg_daily_cell in share row exclusive mode`);
          await tx.execute(sql`delete from agg_hourly_device where ${bounds('hour', from, to)}`);
          await tx.execute(sql`delete from agg_hourly_cell where ${bounds('hour', from, to)}`);
          await tx.execute(sql`delete from agg_daily_cell where ${bounds('day', fromDay, toDay, 'date')}`);
          // Numbers for the vehicles that have none yet; the others keep theirs (the bitmaps elsewhere use them).
          await tx.execute(sql`insert into agg_device_numbers (device_id)
            select distinct d.device_id from detections d
            where ${bounds('ts', fromDay, toDay)} and not exists (select 1 from agg_device_numbers x where x.device_id = d.device_id)
            order by 1
            on conflict (device_id) do nothing`);
          const written = async (q: SQL) => Number((await execRows<{ n: number }>(tx, sql`with x as (${q} returning 1) select count(*)::int as n from x`))[0]?.n ?? 0);
          return {
            hourlyDevice: await written(hourlyDeviceInsert(detectionsInRange, false)),
            hourlyCell: await written(hourlyCellInsert(detectionsInRange, this.h3Resolution, false)),
            dailyCell: await written(
              dailyCellInsert(detectionsInDays, this.h3Resolution, sql`(select repeat('0', coalesce(max(n) + 1, 0))::bit varying from agg_device_numbers)`, false),
            ),
          };
        });
        await this.db.execute(aggregatesChanged);
        const report: RebuildReport = {
          hours: { from: from?.toISOString() ?? null, to: to?.toISOString() ?? null },
          days: { from: fromDay?.toISOString().slice(0, 10) ?? null, to: toDay?.toISOString().slice(0, 10) ?? null },
          cellsFilled,
          rows,
        };
        this.logger.info(report, 'aggregates rebuilt');
        return report;
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableTxError(err)) throw err;
      }
    }
  }

  /**
   * Per (hour, device, class), oldest first. Answers are kept like the cells' (see cells): every ingest
   * commit that stores events and every rebuild move agg_changes, so a kept answer is always that of
   * the data as it is; dashboards polling one view between commits share it.
   */
  async hourly(q: HourlyQuery): Promise<HourlyRow[]> {
    const classes = q.class === undefined ? null : [...new Set(typeof q.class === 'string' ? [q.class] : q.class)].sort();
    const key = JSON.stringify([q.from.toISOString(), q.to.toISOString(), q.deviceId ?? null, classes, q.limit ?? null, q.offset ?? 0]);
    const [version] = await execRows<{ v: string; is_called: boolean }>(this.db, aggregatesVersion);
    return this.hourlyAnswers.get(key, `${version?.v}/${version?.is_called}`, () => this.computeHourly(q));
  }

  private async computeHourly(q: HourlyQuery): Promise<HourlyRow[]> {
    // A page is up to 1,000 rows, and 10 dashboards asking for one share two cores with Postgres: the
    // columns come as cheaply as Postgres can give them (the hour as epoch seconds, the sum as float8;
    // to_char and numeric division cost it ~1 ms a page) and are formatted here, each hour once.
    // (Ordered by the columns, so that the indexes serve the order.)
    const rows = await execRows<{ epoch: number | string; device_id: string; class: string; events: number; avg: number | string; max: number | string }>(
      this.db,
      sql`select date_part('epoch', h.hour) as epoch, h.device_id, h.class, h.events,
                 h.confidence_sum::float8 / h.events as avg, h.confidence_max as max
          from agg_hourly_device h
          where h.hour >= ${floorTo(q.from, HOUR_MS).toISOString()}::timestamptz and h.hour < ${q.to.toISOString()}::timestamptz
            ${q.deviceId !== undefined ? sql`and h.device_id = ${q.deviceId}` : sql``}
            ${classFilter(q.class)}
          order by h.hour, h.device_id, h.class
          ${q.limit !== undefined ? sql`limit ${q.limit}` : sql``} ${q.offset ? sql`offset ${q.offset}` : sql``}`,
    );
    let lastEpoch: number | string | null = null;
    let lastIso = '';
    return rows.map((r) => {
      if (r.epoch !== lastEpoch) {
        lastEpoch = r.epoch;
        lastIso = new Date(Number(r.epoch) * 1000).toISOString();
      }
      return { hour: lastIso, deviceId: r.device_id, class: r.class, events: Number(r.events), avgConfidence: Number(r.avg), maxConfidence: Number(r.max) };
    });
  }

  /**
   * Cells with their events and distinct vehicles in [from, to) (rounded out to whole hours), most
   * events first (then most vehicles, then cell). The rollups are at aggregates.h3Resolution; a coarser
   * `resolution` sums them into their parent cells (the vehicles counted once per parent).
   *
   * Whole UTC days come from agg_daily_cell (vehicles: the OR of the days' bitmaps), the hours at either
   * end from agg_hourly_cell; a range within one day only from agg_hourly_cell. Answers are kept (up to
   * CELL_CACHE_ENTRIES queries, at most a minute) and served again while agg_changes has not moved —
   * every commit that changes the cell rollups moves it — so they are always those of the data as it is.
   */
  async cells(q: CellQuery): Promise<CellRow[]> {
    const resolution = q.resolution ?? this.h3Resolution;
    if (!Number.isInteger(resolution) || resolution < 0 || resolution > this.h3Resolution) {
      throw new InvalidRequestError(
        `resolution must be an integer from 0 to ${this.h3Resolution}, got ${resolution}`,
        `the cells are stored at aggregates.h3Resolution = ${this.h3Resolution}; coarser ones are sums of those`,
      );
    }
    const classes = q.class === undefined ? [] : [...new Set(typeof q.class === 'string' ? [q.class] : q.class)].sort();
    const query: CellsSql = {
      resolution,
      from: floorTo(q.from, HOUR_MS),
      to: ceilTo(q.to, HOUR_MS),
      classes: classes.length ? classes : null,
      bbox: q.bbox ? { minLon: q.bbox.minLon, minLat: q.bbox.minLat, maxLon: q.bbox.maxLon, maxLat: q.bbox.maxLat } : null,
      minEvents: q.minEvents ?? 1,
      minDevices: q.minDevices ?? 1,
      limit: q.limit ?? 100,
      offset: q.offset ?? 0,
    };
    const key = JSON.stringify(query);
    const [version] = await execRows<{ v: string; is_called: boolean }>(this.db, aggregatesVersion);
    return this.cellAnswers.get(key, `${version?.v}/${version?.is_called}`, () => this.computeCells(query));
  }

  private async computeCells(q: CellsSql): Promise<CellRow[]> {
    // The cells (at the query's resolution) that overlap the box; too many is an InvalidRequestError.
    const cover = q.bbox ? cellsOverlappingBox(q.bbox, q.resolution) : null;
    if (cover && !cover.length) return [];
    const cellOf = (col: SQL) => (q.resolution === this.h3Resolution ? col : h3ParentSql(col, q.resolution));
    const inCover = (cell: SQL) => (cover ? sql`and ${cell} = any(${`{${cover.join(',')}}`}::text[])` : sql``);
    // On agg_hourly_cell the cover is a condition on rows only when it is a few cells (then an index
    // condition on the key); a long list there makes the planner give up the hour index and read the whole
    // table, so those rows are kept by cell after grouping instead (OFFSET 0 keeps Postgres from pushing the
    // condition back down). agg_daily_cell takes it either way.
    const fewCells = cover !== null && cover.length <= FEW_CELLS;
    const filters = (alias: string, rowCover: boolean) => {
      const col = (name: string) => sql`${sql.identifier(alias)}.${sql.identifier(name)}`;
      return sql`${col('resolution')} = ${this.h3Resolution}
        ${q.classes ? sql`and ${col('class')} in (${sql.join(q.classes.map((c) => sql`${c}`), sql`, `)})` : sql``}
        ${rowCover ? inCover(cellOf(col('cell'))) : sql``}`;
    };
    const hours = (lo: Date, hi: Date) => sql`h.hour >= ${lo.toISOString()}::timestamptz and h.hour < ${hi.toISOString()}::timestamptz`;
    const page = sql`order by 2 desc, 3 desc, 1 limit ${q.limit} ${q.offset ? sql`offset ${q.offset}` : sql``}`;

    // Whole days in [from, to), and the hours before and after them.
    let dayFrom = ceilTo(q.from, DAY_MS);
    let dayTo = floorTo(q.to, DAY_MS);
    if (dayFrom >= dayTo) {
      const rows = await execRows<CellCount>(
        this.db,
        sql`select * from (
              select ${cellOf(sql`h.cell`)} as cell, sum(h.events)::int as events, count(distinct h.device_id)::int as devices
              from agg_hourly_cell h
              where ${filters('h', fewCells)} and ${hours(q.from, q.to)}
              group by 1
              having sum(h.events) >= ${q.minEvents} and count(distinct h.device_id) >= ${q.minDevices}
              offset 0) g
            where true ${inCover(sql`g.cell`)}
            ${page}`,
      );
      return rows.map((r) => toCellRow(r, q.resolution));
    }
    // One snapshot for the checks and the query (a row arriving in between must not be counted by half).
    const rows = await this.db.transaction(
      async (tx) => {
        // A partial day whose other hours hold no row this query would count is its whole day. (With a long
        // cover the check looks at every cell: it may then keep hours it need not, never the other way.)
        const anyRow = async (range: SQL) =>
          Boolean((await execRows<{ any: boolean }>(tx, sql`select exists (select 1 from agg_hourly_cell h where ${filters('h', fewCells)} and ${range}) as any`))[0]?.any);
        if (dayFrom > q.from && !(await anyRow(hours(new Date(dayFrom.getTime() - DAY_MS), q.from)))) dayFrom = new Date(dayFrom.getTime() - DAY_MS);
        if (dayTo < q.to && !(await anyRow(hours(q.to, new Date(dayTo.getTime() + DAY_MS))))) dayTo = new Date(dayTo.getTime() + DAY_MS);
        const edges = [
          ...(q.from < dayFrom ? [hours(q.from, dayFrom)] : []),
          ...(dayTo < q.to ? [hours(dayTo, q.to)] : []),
        ];
        // Every bitmap is padded to the longest possible (highest vehicle number + 1), so that they OR;
        // an hourly row's vehicle is its bit in such a bitmap.
        const days = sql`select ${cellOf(sql`d.cell`)} as cell, d.events::bigint as events,
            d.devices || substring(w.zeros from 1 for length(w.zeros) - length(d.devices)) as devices
          from agg_daily_cell d cross join w
          where ${filters('d', true)} and d.day >= ${dayFrom.toISOString().slice(0, 10)}::date and d.day < ${dayTo.toISOString().slice(0, 10)}::date`;
        const edgeHours = sql`select * from (
            select ${cellOf(sql`h.cell`)} as cell, sum(h.events) as events, bit_or(set_bit(w.zeros, x.n, 1))::bit varying as devices
            from agg_hourly_cell h join agg_device_numbers x on x.device_id = h.device_id cross join w
            where ${filters('h', fewCells)} and (${sql.join(edges, sql` or `)})
            group by 1
            offset 0) e
          where true ${inCover(sql`e.cell`)}`;
        return execRows<CellCount>(
          tx,
          sql`with w as (select repeat('0', coalesce(max(n) + 1, 0))::bit varying as zeros from agg_device_numbers),
            parts as (${days} ${edges.length ? sql`union all ${edgeHours}` : sql``})
            select cell, sum(events)::int as events, bit_count(bit_or(devices))::int as devices
            from parts
            group by 1
            having sum(events) >= ${q.minEvents} and bit_count(bit_or(devices)) >= ${q.minDevices}
            ${page}`,
        );
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    return rows.map((r) => toCellRow(r, q.resolution));
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

/** A cells query, normalised (whole hours, classes sorted): the answer depends on nothing else, so it is the cache key. */
interface CellsSql {
  resolution: number;
  from: Date;
  to: Date;
  /** null: any class (as an empty list). */
  classes: string[] | null;
  bbox: GeoBox | null;
  minEvents: number;
  minDevices: number;
  limit: number;
  offset: number;
}

interface CellCount extends Record<string, unknown> {
  cell: string;
  events: number;
  devices: number;
}

function toCellRow(r: CellCount, resolution: number): CellRow {
  return { cell: r.cell, resolution, events: Number(r.events), devices: Number(r.devices) };
}

function classFilter(value: string | readonly string[] | undefined): SQL {
  if (value === undefined) return sql``;
  const classes = typeof value === 'string' ? [value] : [...value];
  return classes.length ? sql`and h.class in (${sql.join(classes.map((c) => sql`${c}`), sql`, `)})` : sql``;
}

function floorTo(d: Date, ms: number): Date {
  return new Date(Math.floor(d.getTime() / ms) * ms);
}

function ceilTo(d: Date, ms: number): Date {
  return new Date(Math.ceil(d.getTime() / ms) * ms);
}
