import { sql } from 'drizzle-orm';
import type { HubDatabase } from '../../db/client.js';
import { execRows } from '../../db/rows.js';

/**
 * Every rollup row, in a stable order and exact text form (numeric sums included): what tests compare
 * between incremental maintenance and `AggregatesService.rebuild`.
 */
export async function rollupSnapshot(database: HubDatabase) {
  const q = (text: string) => execRows(database.db, sql.raw(text));
  return {
    hourlyDevice: await q(`select to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, device_id, class, events, confidence_sum::text as sum, confidence_max from agg_hourly_device order by 1, 2, 3`),
    hourlyCell: await q(`select to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, cell, resolution, device_id, class, events, confidence_sum::text as sum, confidence_max from agg_hourly_cell order by 1, 2, 3, 4, 5`),
    // The bitmap as text, and as the vehicles it stands for (what the numbers mean).
    dailyCell: await q(
      `select day::text as day, cell, resolution, class, events, devices::text as devices,
              (select string_agg(x.device_id, ',' order by x.device_id) from agg_device_numbers x where x.n < length(devices) and substring(devices from x.n + 1 for 1) = B'1') as vehicles
       from agg_daily_cell order by 1, 2, 3, 4`,
    ),
  };
}
