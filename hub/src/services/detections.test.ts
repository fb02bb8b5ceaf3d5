import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { DetectionQueryService, encodeCursor, InvalidCursorError } from './detections.js';
import { IngestService } from './ingest.js';
import { batchPayload, makeEvent } from './testing/fixtures.js';

const TOTAL = 1234;

describe.each(testDatabases())('DetectionQueryService on $name', ({ name, open }) => {
  let database: HubDatabase;
  let query: DetectionQueryService;

  beforeAll(async () => {
    database = await open();
    query = new DetectionQueryService({ db: database.db, logger: testLogger() });
    const ingest = new IngestService({ db: database.db, logger: testLogger() });
    const base = Date.UTC(2026, 10, 22, 8);
    // Three events share each timestamp, so the id tie-break is exercised; batches arrive out of time order.
    const events = Array.from({ length: TOTAL }, (_, i) => makeEvent({ ts: new Date(base + Math.floor(i / 3) * 1000).toISOString() }));
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    for (let i = 0; i < shuffled.length; i += 500) {
      await ingest.ingest('veh-1', batchPayload('veh-1', shuffled.slice(i, i + 500)), 'mqtt');
    }
    await database.db.execute(sql`analyze detections`);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('walks every row exactly once, newest first by (ts, id)', async () => {
    const seen: { id: string; ts: string }[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await query.list({ limit: 100, cursor });
      seen.push(...page.items.map((i) => ({ id: i.id, ts: i.ts })));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(TOTAL / 100));
    expect(new Set(seen.map((s) => s.id)).size).toBe(TOTAL);
    for (let i = 1; i < seen.length; i++) {
      const [a, b] = [seen[i - 1]!, seen[i]!];
      const ordered = a.ts > b.ts || (a.ts === b.ts && BigInt(a.id) > BigInt(b.id));
      expect(ordered, `row ${i} out of order`).toBe(true);
    }
  });

  it('maps a row to the API shape and ends with a null cursor', async () => {
    const page = await query.list({ limit: 1 });
    expect(page.items[0]).toMatchObject({
      deviceId: 'veh-1',
      clock: 'gps',
      lat: 52.37021,
      class: 'pothole',
      confidence: 0.87,
      bbox: [412, 388, 530, 455],
      frame: { w: 1280, h: 720 },
      ts: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    expect(page.nextCursor).toEqual(expect.any(String));
    expect((await query.list({ limit: 1000, cursor: (await query.list({ limit: TOTAL - 5 })).nextCursor! })).nextCursor).toBeNull();
  });

  it('rejects a cursor it did not issue', async () => {
    await expect(query.list({ limit: 10, cursor: 'garbage' })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(query.list({ limit: 10, cursor: encodeCursor({ ts: 'yesterday', id: '1' }) })).rejects.toThrow(/invalid cursor/);
    await expect(query.list({ limit: 10, cursor: encodeCursor({ ts: '2026-11-22T08:00:00.000000Z', id: "1; drop" }) })).rejects.toThrow(
      InvalidCursorError,
    );
  });

  it.runIf(name === 'postgres')('seeks a page through the (ts, id) index: row comparison as index condition, no sort', async () => {
    const deep = JSON.parse(Buffer.from((await query.list({ limit: 100 })).nextCursor!, 'base64url').toString()) as { ts: string; id: string };
    const plan = await execRows<{ 'QUERY PLAN': string }>(
      database.db,
      sql`explain select * from detections where (ts, id) < (${deep.ts}::timestamptz, ${deep.id}::bigint) order by ts desc, id desc limit 101`,
    );
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index Scan using detections_ts_id_idx/);
    expect(text).toMatch(/Index Cond: \(ROW\(ts, id\) < ROW\(/);
    expect(text).not.toMatch(/\bSort\b/);
  });
});
