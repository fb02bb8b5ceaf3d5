import { sql, type SQL } from 'drizzle-orm';

/**
 * The rollup statements, shared by incremental maintenance (CTEs over the rows an ingest really
 * inserted) and by `aggregates rebuild` (over detections): the same expressions on both paths, so a
 * rebuild reproduces exactly what ingest maintained. `rows` is a relation with the detections columns
 * device_id, ts, class, confidence, h3_cell.
 *
 * - Buckets are by event time (ts), whole UTC hours: a late event lands in its own hour.
 * - confidence_sum is numeric (real → numeric is exact and addition associative), so the sum does
 *   not depend on how rows were split into batches; max is order-independent anyway.
 * - Rows are grouped (one per key, as ON CONFLICT DO UPDATE requires) and sorted by key, so
 *   overlapping concurrent batches lock rollup rows in one order.
 */
const hourOf = sql`date_trunc('hour', r.ts, 'UTC')`;

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
    group by 1, 3, 4, 5 order by 1, 3, 4, 5
    ${merge ? sql`on conflict (cell, resolution, hour, device_id, class) do update set
      events = t.events + excluded.events,
      confidence_sum = t.confidence_sum + excluded.confidence_sum,
      confidence_max = greatest(t.confidence_max, excluded.confidence_max)` : sql``}`;
}
