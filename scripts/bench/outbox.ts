// npm run bench:outbox [-- --events N] — batched append rate of the agent outbox against raw
// better-sqlite3 inserts of the same payloads, the readAfter+settle drain rate, and the lingering
// check (waitingAfter) against reading the same rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pino from 'pino';
import { EventBodySchema } from '@roadwatch/shared';
import { SqliteOutbox } from '../../agent/src/outbox/sqlite-outbox.js';
import { sampleEvents } from '../../agent/src/outbox/testing/sample-events.js';
import { writeSection } from './report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    batch: { type: 'string', default: '1000' },
    dir: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
  },
});
const total = Number(values.events);
const batch = Number(values.batch);
const TARGET = 100_000;
const DRAIN_BATCH_EVENTS = 500;
const DRAIN_BATCH_BYTES = 256 * 1024;

const dir = mkdtempSync(join(values.dir ?? tmpdir(), 'roadwatch-bench-outbox-'));
const outbox = new SqliteOutbox({ path: join(dir, 'outbox.sqlite'), logger: pino({ level: 'warn' }), maxBytes: 1e15, maxAgeMs: 1e15 });

// The reference: the same payload strings into a bare table, same file settings, one transaction per batch.
const raw = new Database(join(dir, 'raw.sqlite'));
raw.pragma('journal_mode = WAL');
raw.pragma('synchronous = FULL');
raw.exec('CREATE TABLE raw (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
const rawInsert = raw.prepare('INSERT INTO raw (seq, payload) VALUES (?, ?)');
const rawBatch = raw.transaction((rows: { seq: number; payload: string }[]) => {
  for (const row of rows) rawInsert.run(row.seq, row.payload);
});

let outboxMs = 0;
let outboxCpuUs = 0;
let rawMs = 0;
let validateMs = 0;
let payloadBytes = 0;
for (let done = 0; done < total; done += batch) {
  const bodies = sampleEvents(Math.min(batch, total - done), done);

  let t = performance.now();
  for (const body of bodies) EventBodySchema.safeParse(body);
  validateMs += performance.now() - t;

  t = performance.now();
  const cpu = process.cpuUsage();
  const events = outbox.append(bodies);
  outboxMs += performance.now() - t;
  const used = process.cpuUsage(cpu);
  outboxCpuUs += used.user + used.system;

  const rows = events.map((event) => ({ seq: event.seq, payload: JSON.stringify(event) }));
  for (const row of rows) payloadBytes += Buffer.byteLength(row.payload);
  t = performance.now();
  rawBatch(rows);
  rawMs += performance.now() - t;
}

// While an agent lingers (uplink.lingerMs) every notify asks whether a full batch waits: counted
// (waitingAfter) instead of read (readAfter, the reference), with a lingered batch's worth waiting.
const LINGER_WAITING = 200;
const CHECKS = 2_000;
const checkUs = (check: () => unknown): number => {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for (let i = 0; i < CHECKS; i++) check();
    best = Math.min(best, performance.now() - t0);
  }
  return (best * 1000) / CHECKS;
};
const lingerFrom = total - LINGER_WAITING;
const countUs = checkUs(() => outbox.waitingAfter(lingerFrom, DRAIN_BATCH_EVENTS, DRAIN_BATCH_BYTES));
const readUs = checkUs(() => outbox.readAfter(lingerFrom, DRAIN_BATCH_EVENTS, DRAIN_BATCH_BYTES));

let drainMs = 0;
let drained = 0;
let t = performance.now();
for (;;) {
  const rows = outbox.readAfter(0, DRAIN_BATCH_EVENTS, DRAIN_BATCH_BYTES);
  if (rows.length === 0) break;
  outbox.settle(rows[0]!.seq, rows[rows.length - 1]!.seq, Date.now());
  drained += rows.length;
}
drainMs = performance.now() - t;
const after = outbox.stats();
outbox.close();
raw.close();
rmSync(dir, { recursive: true, force: true });

const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const fmt = (n: number): string => n.toLocaleString('en-US');
const appendRate = rate(total, outboxMs);
const rawRate = rate(total, rawMs);

const body = [
  `${fmt(total)} events in batches of ${fmt(batch)}, average payload ${Math.round(payloadBytes / total)} bytes, WAL + synchronous=FULL, SQLite ${sqliteVersion()}, load average at the end ${loadavg().map((n) => n.toFixed(1)).join(' ')}. The reference inserts the same payload strings into a bare table with the same file settings, in the same run.`,
  '',
  '| measure | events/s | note |',
  '|---|---:|---|',
  `| outbox append (validate + id + seq + JSON + insert + caps) | ${fmt(appendRate)} | target ≥ ${fmt(TARGET)}: ${appendRate >= TARGET ? 'met' : 'MISSED'} |`,
  `| raw better-sqlite3 insert of the same payloads | ${fmt(rawRate)} | reference |`,
  `| outbox append per CPU-second (user + sys time of append) | ${fmt(Math.round((total / outboxCpuUs) * 1e6))} | the rate on an otherwise idle core |`,
  `| ratio outbox / raw | ${(appendRate / rawRate).toFixed(2)} | |`,
  `| zod EventBodySchema validation alone | ${fmt(rate(total, validateMs))} | for comparison; append uses a faster guard that falls back to zod |`,
  `| drain: readAfter(${DRAIN_BATCH_EVENTS} events / ${DRAIN_BATCH_BYTES / 1024} KiB) + settle | ${fmt(rate(drained, drainMs))} | ${fmt(drained)} drained, depth after ${after.depth} |`,
  `| lingering check: waitingAfter, ${LINGER_WAITING} rows waiting | ${fmt(Math.round(1e6 / countUs))} checks/s | ${countUs.toFixed(1)} µs a check, ${(readUs / countUs).toFixed(1)}× cheaper than reading the rows (readAfter: ${readUs.toFixed(1)} µs, reference) — once per event while an agent lingers |`,
].join('\n');
console.log(`\n## Outbox benchmark\n\n${body}`);
if (!values['no-write']) writeSection('outbox', 'Outbox: batched append (bench:outbox)', body);

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return version;
}
