/**
 * Ingest throughput on both drivers, straight into the service (no broker):
 *   npx tsx hub/src/services/testing/ingest-bench.ts [batches=40] [batchSize=500] [concurrency=1,8]
 * Compares the json_to_recordset statement the service uses with an unnest-of-arrays variant,
 * and (Postgres) with COPY of the same number of rows.
 */
import { newBatchId } from '@roadwatch/shared';
import { inParallel } from '../../../../scripts/fleet/parallel.js';
import { sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import type { HubDatabase } from '../../db/client.js';
import { copyDetections } from '../../db/testing/copy.js';
import { testDatabases, testLogger } from '../../db/testing/databases.js';
import { IngestService } from '../ingest.js';
import { ingestStatement, toDetectionRow } from '../ingest-sql.js';
import { batchPayload, makeEvents } from './fixtures.js';

const [batches = 40, batchSize = 500] = process.argv.slice(2, 4).map(Number);
const concurrencies = (process.argv[4] ?? '1,8').split(',').map(Number);

async function truncate(database: HubDatabase) {
  await database.db.execute(sql`truncate detections, quarantine restart identity`);
}

async function timeIt(label: string, events: number, work: () => Promise<void>) {
  const t0 = performance.now();
  await work();
  const s = (performance.now() - t0) / 1000;
  console.log(`${label.padEnd(44)} ${Math.round(events / s).toLocaleString('en').padStart(9)} events/s  (${(s * 1000 / batches).toFixed(1)} ms/batch)`);
}

function unnestStatement(deviceId: string, batchId: string, payload: string): SQL {
  const rows = (JSON.parse(payload).events as Parameters<typeof toDetectionRow>[0][]).map((e) => toDetectionRow(e, { deviceId, batchId }));
  const col = <K extends keyof (typeof rows)[number]>(k: K) => sql.param(rows.map((r) => r[k]));
  return sql`insert into detections (event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg, class, confidence, hits, bbox, frame_w, frame_h, model, batch_id)
    select e.event_id, ${deviceId}, e.seq, e.ts, e.clock, e.lat, e.lon, e.accuracy_m, e.speed_kmh, e.heading_deg, e.class, e.confidence, e.hits, e.bbox, e.frame_w, e.frame_h, e.model, ${batchId}::uuid from unnest(${col('event_id')}::uuid[], ${col('seq')}::int8[], ${col('ts')}::timestamptz[], ${col('clock')}::text[],
      ${col('lat')}::float8[], ${col('lon')}::float8[], ${col('accuracy_m')}::real[], ${col('speed_kmh')}::real[], ${col('heading_deg')}::real[],
      ${col('class')}::text[], ${col('confidence')}::real[], ${col('hits')}::int[], ${sql.param(rows.map((r) => (r.bbox_x1 === null ? null : JSON.stringify([r.bbox_x1, r.bbox_y1, r.bbox_x2, r.bbox_y2]))))}::jsonb[],
      ${col('frame_w')}::int[], ${col('frame_h')}::int[], ${col('model')}::text[])
      as e(event_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg, class, confidence, hits, bbox, frame_w, frame_h, model)
    order by e.event_id on conflict (event_id) do nothing returning event_id`;
}

function jsonStatement(deviceId: string, batchId: string, payload: string): SQL {
  const events = (JSON.parse(payload).events as Parameters<typeof toDetectionRow>[0][]).map((e) => toDetectionRow(e, { deviceId, batchId }));
  return ingestStatement({ deviceId, batchId, now: new Date().toISOString(), events, quarantine: [] });
}

for (const { name, open } of testDatabases()) {
  const database = await open();
  const ingest = new IngestService({ db: database.db, logger: testLogger() });
  const payloads = Array.from({ length: batches }, () => batchPayload('veh-1', makeEvents(batchSize)));
  const total = batches * batchSize;
  for (const p of payloads.slice(0, 5)) await ingest.ingest('veh-1', p, 'mqtt'); // warm-up (JIT, plan cache)
  console.log(`\n${name}: ${batches} batches × ${batchSize} events`);
  for (const c of name === 'pglite' ? [1] : concurrencies) {
    await truncate(database);
    await timeIt(`IngestService (json_to_recordset) ×${c}`, total, () => inParallel(payloads, c, async (p) => void (await ingest.ingest('veh-1', p, 'mqtt'))));
    await timeIt(`  same batches again (all duplicates) ×${c}`, total, () => inParallel(payloads, c, async (p) => void (await ingest.ingest('veh-1', p, 'mqtt'))));
    await truncate(database);
    await timeIt(`json_to_recordset statement alone ×${c}`, total, () => inParallel(payloads, c, async (p) => void (await database.db.execute(jsonStatement('veh-1', newBatchId(), p)))));
    await truncate(database);
    await timeIt(`unnest arrays statement alone ×${c}`, total, () => inParallel(payloads, c, async (p) => void (await database.db.execute(unnestStatement('veh-1', newBatchId(), p)))));
  }
  if (name === 'postgres') {
    await truncate(database);
    const pool = (database.db as unknown as { $client: pg.Pool }).$client;
    const rows = payloads.flatMap((p) => (JSON.parse(p).events as object[]).map((e) => ({ ...e, deviceId: 'veh-1', batchId: newBatchId() })));
    const conn = await pool.connect();
    await timeIt('COPY (reference)', total, async () => void (await copyDetections(conn, rows as never)));
    conn.release();
  }
  await database.close();
}
