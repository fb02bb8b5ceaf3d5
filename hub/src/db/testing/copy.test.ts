import { newBatchId } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { execRows } from '../rows.js';
import { makeEvent } from '../../services/testing/fixtures.js';
import { copyDetections } from './copy.js';
import { testDatabases } from './databases.js';

const postgres = testDatabases().filter((d) => d.name === 'postgres');

describe.runIf(postgres.length > 0)('copyDetections (benchmark reference)', () => {
  it('copies rows with the same values ingest would store', async () => {
    const database = await postgres[0]!.open();
    try {
      const client = (database.db as unknown as { $client: pg.Pool }).$client;
      const conn = await client.connect();
      const batchId = newBatchId();
      const rows = Array.from({ length: 1000 }, (_, i) =>
        ({ ...makeEvent(i === 0 ? { class: 'say "hi", ok', model: '' } : {}), deviceId: 'veh-1', batchId }),
      );
      delete (rows[1] as { bbox?: unknown }).bbox;
      try {
        expect(await copyDetections(conn, rows)).toBe(1000);
      } finally {
        conn.release();
      }
      const [first] = await execRows<{ class: string; model: string | null; bbox: unknown }>(
        database.db,
        sql`select class, model, bbox from detections where event_id = ${rows[0]!.eventId}`,
      );
      expect(first).toEqual({ class: 'say "hi", ok', model: '', bbox: [412, 388, 530, 455] });
      const [second] = await execRows<{ bbox: unknown }>(database.db, sql`select bbox from detections where event_id = ${rows[1]!.eventId}`);
      expect(second!.bbox).toBeNull();
    } finally {
      await database.close();
    }
  });
});
