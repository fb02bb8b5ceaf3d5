import { sql, type SQL } from 'drizzle-orm';

/**
 * The rollup statements, shared by incremental maintenance (CTEs over the rows an ingest really
 * inserted) and by `aggregates rebuild` (over detections): the same expressions on both paths, so a
 * rebuild reproduces exactly what ingest maintained. `rows` is a relation with the detections columns
 * device_id, ts, class, confidence, h3_cell (and device_n for the daily cell rollup).
 *
 * - Buckets are by event time (ts), whole UTC hours or days: a late event lands in its own hour and day.
 * - confidence_sum is numeric (real → numeric is exact and addition associative), so the sum does
 *   not depend on how rows were split into batches; max is order-independent anyway.
 * - Rows are grouped (one per key, as ON CONFLICT DO UPDATE requires) and, when merged into the
 *   table (ingest), sorted by key, so overlapping concurrent batches lock rollup rows in one order.
 *   A rebuild (no merge; the tables are locked) writes them in time order instead, so that the table
 *   is laid out by time as ingest lays it out and the time indexes (BRIN on hour, day) stay useful.
 */
const hourOf = sql`date_trunc('hour', r.ts, 'UTC')`;
const dayOf = sql`(r.ts at time zone 'UTC')::date`;

export function hourlyDeviceInsert(rows: SQL, merge: boolean): SQL {
  return sql`insert into agg_hourly_device as t (hour, device_id, class, events, confidence_sum, confidence_max)
    select ${hourOf}, r.device_id, r.class, count(*), sum(r.confidence::numeric), max(r.confidence)
    from ${rows} r
    group by 1, 2, 3 order by 1, 2, 3
    ${merge ? sql`on conflict (hour, device_id, class) do update set
      events = t.events + excluded.events,
      confidence_sum = t.confidence_sum + excluded.confidence_sum,
      confidence_max = greatest(t.confidence_max, excluded.confidence_max)` : sql``}`;
}

export function hourlyCellInsert(rows: SQL, resolution: number, merge: boolean): SQL {
  return sql`insert into agg_hourly_cell as t (cell, resolution, hour, device_id, class, events, confidence_sum, confidence_max)
    select r.h3_cell, ${resolution}::smallint, ${hourOf}, r.device_id, r.class, count(*), sum(r.confidence::numeric), max(r.confidence)
    from ${rows} r where r.h3_cell is not null
    group by 1, 3, 4, 5 order by ${merge ? sql`1, 3, 4, 5` : sql`3, 1, 4, 5`}
    ${merge ? sql`on conflict (cell, resolution, hour, device_id, class) do update set
      events = t.events + excluded.events,
      confidence_sum = t.confidence_sum + excluded.confidence_sum,
      confidence_max = greatest(t.confidence_max, excluded.confidence_max)` : sql``}`;
}

/**
 * The union of two device bitmaps (agg_daily_cell.devices) of any lengths: the shorter one is padded
 * with zeros on the right first (`|` wants equal lengths). The result is as long as the longer one.
 */
export function devicesUnion(a: SQL, b: SQL): SQL {
  return sql`(case when length(${a}) >= length(${b})
      then ${a} | (${b} || repeat('0', length(${a}) - length(${b}))::bit varying)
      else (${a} || repeat('0', length(${b}) - length(${a}))::bit varying) | ${b} end)`;
}

/**
 * Per (cell, UTC day, class): events, and the vehicles as a bitmap of their agg_device_numbers —
 * bit device_n set, exactly (highest device_n + 1) bits long, whichever way the rows were split.
 * `zeros` is a bit string of zeros at least that long (one value for the statement).
 */
export function dailyCellInsert(rows: SQL, resolution: number, zeros: SQL, merge: boolean): SQL {
  return sql`insert into agg_daily_cell as t (cell, resolution, day, class, events, devices)
    select r.h3_cell, ${resolution}::smallint, ${dayOf}, r.class, count(*),
           substring(bit_or(set_bit(${zeros}, r.device_n, 1)) from 1 for max(r.device_n) + 1)
    from ${rows} r where r.h3_cell is not null
    group by 1, 3, 4 order by ${merge ? sql`1, 3, 4` : sql`3, 1, 4`}
    ${merge ? sql`on conflict (cell, resolution, day, class) do update set
      events = t.events + excluded.events,
      devices = ${devicesUnion(sql`t.devices`, sql`excluded.devices`)}` : sql``}`;
}

/** After a commit that changed the cell rollups: moves agg_changes, so cached cell answers are recomputed. */
export const aggregatesChanged = sql`select nextval('agg_changes')`;

/** The position of agg_changes (last_value with is_called: nextval has run or not yet). */
export const aggregatesVersion = sql`select last_value::text as v, is_called from agg_changes`;
