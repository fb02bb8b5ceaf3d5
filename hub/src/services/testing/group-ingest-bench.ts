/**
 * Group-commit ingest cost with many vehicles sending small batches (the fleet's steady load), straight
 * into IngestService on Postgres (no broker): events/s and the CPU each stored event cost in Postgres
 * and in this process, with the ingest statement prepared (the default) against the same statement
 * sent as text each time (the reference), alternating in one run:
 *   ROADWATCH_TEST_DATABASE_URL=postgres://… npx tsx hub/src/services/testing/group-ingest-bench.ts [vehicles=2000] [batches=6000] [events=20] [inFlight=24] [rounds=2]
 */
import { sql } from 'drizzle-orm';
import { inParallel } from '../../../../scripts/fleet/parallel.js';
import { commandCpuSeconds } from '../../../../scripts/fleet/stats.js';
import { testDatabases, testLogger } from '../../db/testing/databases.js';
import { IngestService } from '../ingest.js';
import { batchPayload, makeEvents } from './fixtures.js';

const [vehicles = 2000, batches = 6000, events = 20, inFlight = 24, rounds = 2] = process.argv.slice(2).map(Number);
const postgres = testDatabases().find((d) => d.name === 'postgres');
if (!postgres) throw new Error('set ROADWATCH_TEST_DATABASE_URL to a Postgres server');
const database = await postgres.open();
const devices = Array.from({ length: vehicles }, (_, i) => `veh-${i}`);
await database.db.execute(sql`insert into devices (device_id, secret_hash) select unnest(${sql.param(devices)}::text[]), 'x'`);

async function run(prepared: boolean): Promise<{ rate: number; pg: number; me: number }> {
  const ingest = new IngestService({ db: database.db, logger: testLogger(), prepared });
  const work = Array.from({ length: batches }, (_, i) => ({ deviceId: devices[i % vehicles]!, payload: batchPayload(devices[i % vehicles]!, makeEvents(events)) }));
  for (const w of work.splice(0, 100)) await ingest.ingest(w.deviceId, w.payload, 'mqtt'); // warm-up: JIT, plans
  const pg0 = commandCpuSeconds('postgres');
  const me0 = process.cpuUsage();
  const t0 = performance.now();
  await inParallel(work, inFlight, async (w) => void (await ingest.ingest(w.deviceId, w.payload, 'mqtt')));
  const seconds = (performance.now() - t0) / 1000;
  const me = process.cpuUsage(me0);
  const stored = work.length * events;
  return { rate: stored / seconds, pg: ((commandCpuSeconds('postgres') - pg0) * 1e6) / stored, me: ((me.user + me.system) / stored) };
}

console.log(`${vehicles} vehicles, ${batches} batches × ${events} events, ${inFlight} batches in flight, ${rounds} rounds`);
const results: Record<'text' | 'prepared', Array<Awaited<ReturnType<typeof run>>>> = { text: [], prepared: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['text', 'prepared'] as const) {
    const x = await run(mode === 'prepared');
    results[mode].push(x);
    console.log(`  ${mode.padEnd(8)} ${Math.round(x.rate).toLocaleString('en').padStart(7)} events/s; CPU per event: postgres ${x.pg.toFixed(1)} µs, ingest process ${x.me.toFixed(1)} µs`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratio = (k: 'rate' | 'pg' | 'me') => (mean(results.prepared.map((x) => x[k])) / mean(results.text.map((x) => x[k]))).toFixed(2);
console.log(`prepared / text: events/s ${ratio('rate')}×, postgres CPU per event ${ratio('pg')}×, ingest process CPU per event ${ratio('me')}×`);
await database.close();
