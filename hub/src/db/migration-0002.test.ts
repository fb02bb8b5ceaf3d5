import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { hourlyCellInsert, hourlyDeviceInsert } from '../services/aggregates-sql.js';
import { AggregatesService } from '../services/aggregates.js';
import { cellOf } from '../services/geo.js';
import { MIGRATIONS_FOLDER, type HubDatabase } from './client.js';
import { execRows } from './rows.js';
import { testDatabases, testLogger } from './testing/databases.js';

/** hub/drizzle as it was before 0002: the data a hub upgrading from 0001 has. */
function foldersUpTo0001(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rw-migrations-'));
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => e.tag.startsWith('0000') || e.tag.startsWith('0001'));
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

async function migrateTo0001(database: HubDatabase, folder: string): Promise<void> {
  if (database.kind === 'pglite') await migratePglite(database.db as unknown as PgliteDatabase<Record<string, never>>, { migrationsFolder: folder });
  else await migrateNodePg(database.db as unknown as NodePgDatabase<Record<string, never>>, { migrationsFolder: folder });
}

describe.each(testDatabases())('migration 0002 on $name', ({ open }) => {
  const folder = foldersUpTo0001();
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('fills alarms.latest and agg_daily_cell from the data already there, as the trigger and a rebuild would', async () => {
    const database = await open({ migrate: false });
    try {
      await migrateTo0001(database, folder);
      // Detections and their hourly rollups (with the 0001 statements), three vehicles over three days and two cells.
      const spots = [cellOf(52.37, 4.89, 9), cellOf(52.38, 4.9, 9)];
      const rows = Array.from({ length: 40 }, (_, i) => ({
        device: `veh-${i % 3}`,
        ts: new Date(Date.UTC(2026, 10, 20) + i * 97 * 60_000).toISOString(),
        cls: i % 4 ? 'D00' : 'D40',
        cell: spots[i % 2]!,
      }));
      for (const [i, r] of rows.entries()) {
        await database.db.execute(sql`insert into detections (event_id, device_id, seq, ts, clock, lat, lon, class, confidence, hits, h3_cell, batch_id)
          values (gen_random_uuid(), ${r.device}, ${i}, ${r.ts}::timestamptz, 'gps', 52.37, 4.89, ${r.cls}, 0.5, 1, ${r.cell}, gen_random_uuid())`);
      }
      const all = sql`(select device_id, ts, class, confidence, h3_cell from detections)`;
      await database.db.execute(hourlyDeviceInsert(all, false));
      await database.db.execute(hourlyCellInsert(all, 9, false));
      // Alarm history: per source several cleared ones (one backdated) and sometimes an open one.
      await database.db.execute(sql`insert into alarms (type, source, severity, status, message, created_at)
        select 'device_offline', 'veh-' || s, 'minor', case when k = 4 and s % 2 = 0 then 'active_unack' else 'cleared' end, 'm',
               timestamptz '2026-11-20' + k * interval '1 hour' - case when k = 2 then interval '1 day' else interval '0' end
        from generate_series(0, 4) s cross join generate_series(0, 4) k`);

      await database.migrate();

      const latest = await execRows<{ id: number }>(database.db, sql`select id::int as id from alarms where latest order by id`);
      const newest = await execRows<{ id: number }>(
        database.db,
        sql`select id::int as id from (select distinct on (type, source) id from alarms order by type, source, created_at desc, id desc) x order by id`,
      );
      expect(latest).toEqual(newest);
      expect(latest).toHaveLength(5);

      const daily = async () =>
        execRows(database.db, sql`select day::text, cell, resolution, class, events, devices::text, bit_count(devices)::int as vehicles from agg_daily_cell order by 1, 2, 3, 4`);
      const migrated = await daily();
      expect(migrated.length).toBeGreaterThan(4);
      expect(migrated.reduce((n, r) => n + Number(r.events), 0)).toBe(40);
      await new AggregatesService({ db: database.db, logger: testLogger(), h3Resolution: 9 }).rebuild();
      expect(await daily()).toEqual(migrated);
    } finally {
      await database.close();
    }
  });
});
