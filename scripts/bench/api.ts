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
import { BareJsonServer } from './bare-server.js';
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
  /** Size of a response (headers and body). */
  bytes: number;
  requests: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

/** `pathFor`: a new path for every request (the n-th), so that no kept answer serves it. */
async function measure(name: string, path: string, token: string, pathFor?: (n: number) => string, baseUrl = hub.httpUrl): Promise<Measured> {
  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let n = 0;
  // Without a callback autocannon returns its instance, an event emitter that is also the result's promise.
  const instance = autocannon({
    url: `${baseUrl}${path}`,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    ...(pathFor ? { requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, path: pathFor(n++) }) }] } : {}),
  }) as unknown as Promise<autocannon.Result> & EventEmitter;
  instance.on('response', (_client: unknown, status: number, resBytes: number, ms: number) => {
    latencies.push(ms);
    bytes = resBytes;
    if (status !== 200) errors++;
  });
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const m = { name, path, bytes, requests: latencies.length, errors: errors + result.errors + result.timeouts, rps: latencies.length / seconds, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99) };
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
let reference: Measured | null = null;
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
  const vehicleMonth = `/api/v1/aggregates/hourly?deviceId=${deviceName(7)}&from=${monthFrom}&limit=1000`;
  const fleetMonth = `/api/v1/aggregates/hourly?from=${monthFrom}&limit=1000`;
  // `to` a millisecond later each time: the same rows, but never a kept answer.
  const toPlus = (n: number) => new Date(spec.end.getTime() + n).toISOString();
  const endpoints: Array<[string, string, ((n: number) => string)?]> = [
    ['alarms, newest per source and type', '/api/v1/alarms?latest=true'],
    ['detections page 10,000 pages deep (cursor)', `/api/v1/detections?limit=100&cursor=${encodeURIComponent(cursor)}`],
    ['a month of hourly aggregates, one vehicle (1,000 rows)', `${vehicleMonth}&to=${monthTo}`],
    ['a month of hourly aggregates, one vehicle, never the same question (computed each time)', `${vehicleMonth}&to=${monthTo}`, (n) => `${vehicleMonth}&to=${toPlus(n)}`],
    ['a month of hourly aggregates, whole fleet (first 1,000 rows)', `${fleetMonth}&to=${monthTo}`],
    ['a month of hourly aggregates, whole fleet, never the same question (computed each time)', `${fleetMonth}&to=${monthTo}`, (n) => `${fleetMonth}&to=${toPlus(n)}`],
    ['hotspot cells over the city bbox (top 1,000)', `/api/v1/aggregates/cells?bbox=${CITY.join(',')}&from=${monthFrom}&to=${monthTo}&limit=1000`],
  ];
  for (const [name, path, pathFor] of endpoints) results.push(await measure(name, path, token, pathFor));
  // The floor on this machine: a bare node:http server in its own process answering each request with
  // JSON.stringify of 1,000 hourly-shaped rows (the size of an hourly page), nothing else.
  const bare = await BareJsonServer.start(1000);
  try {
    reference = await measure('reference: bare node:http server, JSON.stringify of a 1,000-row page per request', '/', 'none', undefined, bare.url);
  } finally {
    bare.stop();
  }
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
say('worst case, every event in its own H3 cell (one round):');
const scattered = await measureIngest(adminUrl, Number(values['ingest-batches']), logger, say, 'scattered', 1);
const split: StatementSplit = await explainBatch(adminUrl, 150, logger);
say(`one batch of 500 in the ingest statement: ${split.parts.map((p) => `${p.part} ${fmt(p.ms, 1)} ms`).join(', ')}; total ${fmt(split.totalMs, 1)} ms`);
const cpuCell = (c: { postgres: number; hub: number }) => `${fmt(c.postgres)} + ${fmt(c.hub)}`;

const body = [
  `${load.rows.toLocaleString('en')} generated detections (${spec.devices.toLocaleString('en')} vehicles, ${spec.days} days, Berlin bbox, 40 % around ${spec.hotspots} hotspots; H3 resolution ${spec.h3Resolution}) and ${load.alarms.toLocaleString('en')} alarms in real Postgres; hourly and cell rollups rebuilt from them. A real \`roadwatch-hub serve\` process; load from autocannon in another process, ${connections} connections for ${seconds} s per endpoint, percentiles over every response. ${availableParallelism()} CPUs shared by Postgres, the hub and the load generator; load average at the end ${loadavg().map((n) => n.toFixed(1)).join(' ')}.${load.reused ? '' : ` Loading took COPY ${fmt(load.copySeconds)} s, indexes ${fmt(load.indexSeconds)} s, aggregates rebuild ${fmt(load.aggregatesSeconds)} s.`}`,
  '',
  table(
    [...results, ...(reference ? [reference] : [])].map((m) => ({
      endpoint: m.name,
      'req/s': fmt(m.rps),
      'KB/response': fmt(m.bytes / 1024),
      'p50 ms': fmt(m.p50, 1),
      'p95 ms': fmt(m.p95, 1),
      'p99 ms': fmt(m.p99, 1),
      'p95 / reference': reference ? fmt(m.p95 / reference.p95, 2) : '',
      'non-200': m.errors,
      'p95 target': m === reference ? '' : `< ${P95_TARGET_MS} ms: ${m.p95 < P95_TARGET_MS && m.errors === 0 ? 'met' : 'MISSED'}`,
    })),
  ),
  '',
  `The reference row is a bare node:http server in its own process answering every request with JSON.stringify of 1,000 hourly-shaped rows (${fmt((reference?.bytes ?? 0) / 1024)} KB) and nothing else, measured in the same run with the same load: on this machine that floor is ${fmt(reference?.p95 ?? NaN, 1)} ms at p95 for a 1,000-row page, before any database or framework work. Hourly answers are kept like the cells' (until an ingest or a rebuild moves agg_changes; the rows "never the same question" ask for a new \`to\` each time, so each one is computed: a database query and the page's rows turned into JSON).`,
  '',
  `The cell answers are kept until the cell rollups change (every ingest commit that adds to them moves a sequence the cache checks), so the row above is for data that did not change during the load; a request that must compute the answer (a month over the city, 6,000+ cells from the daily rollup) took ${cellsComputedMs.map((ms) => fmt(ms)).join(', ')} ms in this run. Under live ingest that is the cost of the first request after each change.`,
  '',
  `Ingest with alarms and aggregates maintained, against the same ingest with both off: IngestService straight into fresh Postgres databases (no broker), ${ingest.batches} batches of ${ingest.batchSize} events, 4 batches in flight, ${ingest.rounds} rounds alternating the modes, medians. The batches are what agents send after a while offline: 50 vehicles driving 10 shared routes through the city (5 per route, from different points; a defect every 23 m, the same defects seen by several vehicles, GPS noise of a few metres) in the last day, so hotspots and severe-damage re-sightings happen as in a fleet. "Settled" includes the hotspot checks the batches queued (they run after the ack, coalesced; the last ones are flushed rather than waiting out the 1 s window); the ratio is the median of each round's on (settled) / off. CPU per event is Postgres (all its processes) + the hub's services (this process), from the first timed batch until settled (it includes Postgres's background work, checkpoints and autovacuum, so it varies between rounds too).`,
  '',
  table([
    { ingest: 'alarms + aggregates off (reference)', 'events/s': fmt(ingest.off), 'CPU µs/event (Postgres + hub)': cpuCell(ingest.cpu.off) },
    { ingest: 'aggregates only', 'events/s': fmt(ingest.aggregatesOnly), 'CPU µs/event (Postgres + hub)': cpuCell(ingest.cpu.aggregates) },
    { ingest: 'alarms + aggregates on, until the last ack', 'events/s': fmt(ingest.onAcked), 'CPU µs/event (Postgres + hub)': '' },
    { ingest: 'alarms + aggregates on, rules settled', 'events/s': fmt(ingest.onSettled), 'CPU µs/event (Postgres + hub)': cpuCell(ingest.cpu.on) },
    {
      ingest: 'ratio on (settled) / off',
      'events/s': `${fmt(ingest.ratio, 2)} (target ≥ ${INGEST_RATIO_TARGET}: ${ingest.ratio >= INGEST_RATIO_TARGET ? 'met' : 'MISSED'})`,
      'CPU µs/event (Postgres + hub)': `${fmt(ingest.cpuRatio, 2)} (off / on)`,
    },
    {
      ingest: 'worst case: every event in its own cell (one round), on / off',
      'events/s': `${fmt(scattered.ratio, 2)} (${fmt(scattered.onSettled)} / ${fmt(scattered.off)})`,
      'CPU µs/event (Postgres + hub)': `${fmt(scattered.cpuRatio, 2)} (${cpuCell(scattered.cpu.on)} vs ${cpuCell(scattered.cpu.off)})`,
    },
  ]),
  '',
  `Where the time of one batch goes (EXPLAIN ANALYZE of the ingest statement for the 151st batch of 500 into a fresh database, alarms and aggregates on; each write's own time, the JSON parsing and the RETURNING it feeds included):`,
  '',
  table([...split.parts.map((p) => ({ write: p.part, ms: fmt(p.ms, 1), rows: p.rows || '' })), { write: 'whole statement', ms: fmt(split.totalMs, 1), rows: '' }]),
  '',
  'A vehicle on a road puts ~10 consecutive events in one resolution-9 cell, so a batch of 500 writes ~150 rows to each cell rollup; the worst case (every event in its own cell, as the first version of this benchmark generated) writes ~500 to each and is printed for comparison. Re-sightings of known potholes re-fire their severe-damage alarm: a HOT update (no indexed column changes; the table keeps free space), not an index write per alarm index. The hotspot checks after the ack read one primary-key range per touched cell.',
].join('\n');
console.log(`\n${body}`);
if (!values['no-write']) writeSection('api', 'Hub REST API (bench:api)', body);
