// npm run bench:ingest [-- --vehicles 5000 --batches 10000 --events 20 --in-flight 24 --rounds 3 --no-write]
// (Postgres: ROADWATCH_BENCH_DATABASE_URL, else ROADWATCH_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres)
// The fleet's steady load without the broker: many vehicles sending small batches straight into
// IngestService on Postgres (group commit, default limits), the ingest statement prepared (as the hub
// runs it) against the same statement sent as text every time (the reference), alternating in one run.
// Prints events/s and the CPU each stored event cost in Postgres (all its processes) and in this process.
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { testDatabases, testLogger } from '../../hub/src/db/testing/databases.js';
import { IngestService } from '../../hub/src/services/ingest.js';
import { batchPayload, makeEvents } from '../../hub/src/services/testing/fixtures.js';
import { inParallel } from '../fleet/parallel.js';
import { commandCpuSeconds } from '../fleet/stats.js';
import { fmt, table, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    vehicles: { type: 'string', default: '5000' },
    batches: { type: 'string', default: '10000' },
    events: { type: 'string', default: '20' },
    'in-flight': { type: 'string', default: '24' },
    rounds: { type: 'string', default: '3' },
    'no-write': { type: 'boolean', default: false },
  },
});
const n = (k: 'vehicles' | 'batches' | 'events' | 'in-flight' | 'rounds') => Number(values[k]);
const [vehicles, batches, events, inFlight, rounds] = [n('vehicles'), n('batches'), n('events'), n('in-flight'), n('rounds')];

// The server of the other Postgres benchmarks: ROADWATCH_BENCH_DATABASE_URL, else ROADWATCH_TEST_DATABASE_URL, else the local one.
process.env.ROADWATCH_TEST_DATABASE_URL = process.env.ROADWATCH_BENCH_DATABASE_URL ?? process.env.ROADWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const postgres = testDatabases().find((d) => d.name === 'postgres')!;
const database = await postgres.open();
const devices = Array.from({ length: vehicles }, (_, i) => `veh-${String(i).padStart(5, '0')}`);
await database.db.execute(sql`insert into devices (device_id, secret_hash) select unnest(${sql.param(devices)}::text[]), 'x'`);

interface Run {
  rate: number;
  pgUs: number;
  hubUs: number;
}

async function run(prepared: boolean): Promise<Run> {
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
  return { rate: stored / seconds, pgUs: ((commandCpuSeconds('postgres') - pg0) * 1e6) / stored, hubUs: (me.user + me.system) / stored };
}

console.log(`bench:ingest: ${fmt(vehicles)} vehicles, ${fmt(batches)} batches × ${events} events per mode and round, ${inFlight} batches in flight, ${rounds} rounds`);
const runs: Record<'text' | 'prepared', Run[]> = { text: [], prepared: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ['text', 'prepared'] as const) {
    const x = await run(mode === 'prepared');
    runs[mode].push(x);
    console.log(`  round ${r + 1} ${mode.padEnd(8)} ${fmt(x.rate).padStart(7)} events/s; CPU per event: Postgres ${fmt(x.pgUs, 1)} µs, hub services ${fmt(x.hubUs, 1)} µs`);
  }
}
await database.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = (mode: 'text' | 'prepared', k: keyof Run) => median(runs[mode].map((x) => x[k]));
const row = (label: string, mode: 'text' | 'prepared') => ({ 'ingest statement': label, 'events/s': fmt(m(mode, 'rate')), 'Postgres µs/event': fmt(m(mode, 'pgUs'), 1), 'hub µs/event': fmt(m(mode, 'hubUs'), 1) });
const ratio = (k: keyof Run) => fmt(m('prepared', k) / m('text', k), 2);
const summary = `prepared / text: events/s ${ratio('rate')}×, Postgres CPU per event ${ratio('pgUs')}×, hub CPU per event ${ratio('hubUs')}×`;
console.log(summary);

const body = [
  `The fleet's steady load without the broker: ${fmt(vehicles)} vehicles each sending batches of ${events} events (a vehicle's 5 s at 4 events/s), ${inFlight} batches in flight, straight into IngestService on a fresh Postgres database (group commit with the default limits, rollups maintained as the hub does; no alarm rules); ${fmt(batches)} batches per mode and round, ${rounds} rounds alternating the modes, medians. CPU per event: Postgres (every process of the server) and this process (the hub's services: validation, statement building, the pg driver).`,
  '',
  table([row('prepared (as the hub runs it)', 'prepared'), row('text every time (reference)', 'text')]),
  '',
  `${summary}. The ingest statement is long (eight writes in CTEs); as text, Postgres parses and plans it for every group, and at this load a group holds only a few small batches, so that fixed cost is spread over few events.`,
].join('\n');
if (!values['no-write']) writeSection('ingest', 'Hub ingest: many vehicles, small batches (bench:ingest)', body);
