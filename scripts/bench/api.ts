// npm run bench:api [-- --rows 10000000 --seconds 10 --connections 10 --no-write]
// The fleet managers' API over a month of a city fleet in real Postgres: latency percentiles under
// concurrent load from a separate process (autocannon) against a real `roadwatch-hub serve`, and the
// ingest rate with alarms and aggregates on against off.
import type { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { HubProcess } from '../../test/support/hub.js';
import { benchDatabase, CITY, DEFAULT_SPEC, deviceName, ensureData } from './api-data.js';
import { explainBatch, measureIngest, type StatementSplit } from './api-ingest.js';
import { fmt, table, writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: String(DEFAULT_SPEC.rows) },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    'ingest-batches': { type: 'string', default: '400' },
    'no-write': { type: 'boolean', default: false },
  },
});
const P95_TARGET_MS = 50;
const INGEST_RATIO_TARGET = 0.8;
const spec = { ...DEFAULT_SPEC, rows: Number(values.rows) };
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const adminUrl = process.env.ROADWATCH_BENCH_DATABASE_URL ?? process.env.ROADWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: 'warn' });
const say = (line: string) => console.log(line);

const url = await benchDatabase(adminUrl);
const load = await ensureData(url, spec, logger, say);
say(
  load.reused
    ? `data: ${load.rows.toLocaleString('en')} detections and ${load.alarms.toLocaleString('en')} alarms already loaded (reused)`
    : `data: ${load.rows.toLocaleString('en')} detections loaded (COPY ${fmt(load.copySeconds)} s, indexes ${fmt(load.indexSeconds)} s, aggregates rebuild ${fmt(load.aggregatesSeconds)} s), ${load.alarms.toLocaleString('en')} alarms`,
);

const dataDir = mkdtempSync(join(tmpdir(), 'roadwatch-bench-api-'));
const hub = new HubProcess({
  dataDir,
  databaseUrl: url,
  // The per-token rate limit would answer 429 to a load test; the alarm timer would add its own load.
  env: { ROADWATCH_HUB_RATE_LIMIT_PER_MINUTE: '1000000', ROADWATCH_HUB_ALARMS_TIMER_S: '86400' },
});

interface Measured {
  name: string;
  path: string;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

async function measure(name: string, path: string, token: string): Promise<Measured> {
  const latencies: number[] = [];
  let errors = 0;
  // Without a callback autocannon returns its instance, an event emitter that is also the result's promise.
  const instance = autocannon({
    url: `${hub.httpUrl}${path}`,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
  }) as unknown as Promise<autocannon.Result> & EventEmitter;
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    if (status !== 200) errors++;
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const m = { name, path, requests: latencies.length, errors: errors + result.errors + result.timeouts, rps: latencies.length / seconds, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99) };
  say(`  ${name}: ${fmt(m.rps)} req/s, p50 ${fmt(m.p50, 1)} ms, p95 ${fmt(m.p95, 1)} ms, p99 ${fmt(m.p99, 1)} ms${m.errors ? `, ${m.errors} errors` : ''}`);
  return m;
}

/** The cursor 10,000 pages of 100 deep, reached by walking the API as a client would (in pages of 1,000). */
async function deepCursor(pages: number, pageSize: number): Promise<string> {
  let cursor: string | null = null;
  const walkPage = 1000;
  for (let walked = 0; walked < pages * pageSize; walked += walkPage) {
    const path: string = `/api/v1/detections?limit=${walkPage}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { status, body } = await hub.get<{ nextCursor: string | null }>(path);
    if (status !== 200 || !body.nextCursor) throw new Error(`walking detections stopped at ${walked} rows: ${status} ${JSON.stringify(body).slice(0, 200)}`);
    cursor = body.nextCursor;
  }
  return cursor!;
}

const results: Measured[] = [];
const cellsComputedMs: number[] = [];
let ingest: Awaited<ReturnType<typeof measureIngest>> | null = null;
try {
  await hub.start();
  const token = await hub.readToken();
  const monthFrom = new Date(spec.end.getTime() - spec.days * 86_400_000).toISOString();
  const monthTo = spec.end.toISOString();
  const walkStarted = performance.now();
  const cursor = await deepCursor(10_000, 100);
  say(`walked 1,000,000 detections (10,000 pages of 100) by cursor in ${fmt((performance.now() - walkStarted) / 1000, 1)} s`);
  say(`load: ${connections} connections for ${seconds} s per endpoint, from this process (autocannon) against the hub process`);
  const endpoints: Array<[string, string]> = [
    ['alarms, newest per source and type', '/api/v1/alarms?latest=true'],
    ['detections page 10,000 pages deep (cursor)', `/api/v1/detections?limit=100&cursor=${encodeURIComponent(cursor)}`],
    ['a month of hourly aggregates, one vehicle (1,000 rows)', `/api/v1/aggregates/hourly?deviceId=${deviceName(7)}&from=${monthFrom}&to=${monthTo}&limit=1000`],
    ['a month of hourly aggregates, whole fleet (first 1,000 rows)', `/api/v1/aggregates/hourly?from=${monthFrom}&to=${monthTo}&limit=1000`],
    ['hotspot cells over the city bbox (top 1,000)', `/api/v1/aggregates/cells?bbox=${CITY.join(',')}&from=${monthFrom}&to=${monthTo}&limit=1000`],
  ];
  for (const [name, path] of endpoints) results.push(await measure(name, path, token));
  // The cell answers are cached until the rollups change (any ingest commit): the figure above is for data
  // that did not change during the run. What a request costs when it must compute the answer, timed on
  // queries never asked before (another limit each, so nothing cached serves them):
  for (const limit of [997, 998, 999]) {
    const t = performance.now();
    const { status } = await hub.get(`/api/v1/aggregates/cells?bbox=${CITY.join(',')}&from=${monthFrom}&to=${monthTo}&limit=${limit}`);
    if (status !== 200) throw new Error(`cells (uncached) answered ${status}`);
    cellsComputedMs.push(performance.now() - t);
  }
  cellsComputedMs.sort((a, b) => a - b);
  say(`  hotspot cells computed (not cached): ${cellsComputedMs.map((ms) => fmt(ms)).join(', ')} ms`);
} finally {
  await hub.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
ingest = await measureIngest(adminUrl, Number(values['ingest-batches']), logger, say);
const split: StatementSplit = await explainBatch(adminUrl, 150, logger);
say(`one batch of 500 in the ingest statement: ${split.parts.map((p) => `${p.part} ${fmt(p.ms, 1)} ms`).join(', ')}; total ${fmt(split.totalMs, 1)} ms`);

const body = [
  `${load.rows.toLocaleString('en')} generated detections (${spec.devices.toLocaleString('en')} vehicles, ${spec.days} days, Berlin bbox, 40 % around ${spec.hotspots} hotspots; H3 resolution ${spec.h3Resolution}) and ${load.alarms.toLocaleString('en')} alarms in real Postgres; hourly and cell rollups rebuilt from them. A real \`roadwatch-hub serve\` process; load from autocannon in another process, ${connections} connections for ${seconds} s per endpoint, percentiles over every response. ${availableParallelism()} CPUs shared by Postgres, the hub and the load generator; load average at the end ${loadavg().map((n) => n.toFixed(1)).join(' ')}.${load.reused ? '' : ` Loading took COPY ${fmt(load.copySeconds)} s, indexes ${fmt(load.indexSeconds)} s, aggregates rebuild ${fmt(load.aggregatesSeconds)} s.`}`,
  '',
  table(
    results.map((m) => ({
      endpoint: m.name,
      'req/s': fmt(m.rps),
      'p50 ms': fmt(m.p50, 1),
      'p95 ms': fmt(m.p95, 1),
      'p99 ms': fmt(m.p99, 1),
      'non-200': m.errors,
      'p95 target': `< ${P95_TARGET_MS} ms: ${m.p95 < P95_TARGET_MS && m.errors === 0 ? 'met' : 'MISSED'}`,
    })),
  ),
  '',
  `The cell answers are kept until the cell rollups change (every ingest commit that adds to them moves a sequence the cache checks), so the row above is for data that did not change during the load; a request that must compute the answer (a month over the city, 6,000+ cells from the daily rollup) took ${cellsComputedMs.map((ms) => fmt(ms)).join(', ')} ms in this run. Under live ingest that is the cost of the first request after each change.`,
  '',
  `Ingest with alarms and aggregates maintained, against the same ingest with both off: IngestService straight into fresh Postgres databases (no broker), ${ingest.batches} batches of ${ingest.batchSize} events from 50 vehicles over the city in the last day, 4 batches in flight, ${ingest.rounds} rounds alternating the modes, medians. "Settled" waits for the hotspot checks the batches queued (they run after the ack, coalesced); the ratio is the median of each round's on (settled) / off.`,
  '',
  table([
    { ingest: 'alarms + aggregates off (reference)', 'events/s': fmt(ingest.off) },
    { ingest: 'aggregates only', 'events/s': fmt(ingest.aggregatesOnly) },
    { ingest: 'alarms + aggregates on, until the last ack', 'events/s': fmt(ingest.onAcked) },
    { ingest: 'alarms + aggregates on, rules settled', 'events/s': fmt(ingest.onSettled) },
    { ingest: 'ratio on (settled) / off', 'events/s': `${fmt(ingest.ratio, 2)} (target ≥ ${INGEST_RATIO_TARGET}: ${ingest.ratio >= INGEST_RATIO_TARGET ? 'met' : 'MISSED'})` },
  ]),
  '',
  `Where the time of one batch goes (EXPLAIN ANALYZE of the ingest statement for the 151st batch of 500 into a fresh database, alarms and aggregates on; each write's own time, the JSON parsing and the RETURNING it feeds included):`,
  '',
  table([...split.parts.map((p) => ({ write: p.part, ms: fmt(p.ms, 1), rows: p.rows || '' })), { write: 'whole statement', ms: fmt(split.totalMs, 1), rows: '' }]),
  '',
  'The rollups cost about as much as the insert they summarise: each event of a city-wide drive lands in its own H3 cell, so the hourly and the daily cell rollups each write about one row per event (agg_hourly_cell keys on the vehicle for the distinct-vehicle counts; agg_daily_cell rows are shared between vehicles, so concurrent batches at the same hotspots queue on them), on top of the detection row. The hotspot checks after the ack are the rest of the gap to "settled".',
].join('\n');
console.log(`\n${body}`);
if (!values['no-write']) writeSection('api', 'Hub REST API (bench:api)', body);
