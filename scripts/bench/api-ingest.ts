// Ingest with alarms and aggregates maintained against the same ingest with both off: the same batches,
// through IngestService into fresh real-Postgres databases, rounds alternating so drifting load hits both.
import { newBatchId, newEventId, type RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { execRows } from '../../hub/src/db/rows.js';
import { testDatabases } from '../../hub/src/db/testing/databases.js';
import { DEFAULT_H3_RESOLUTION, ingestStatement, toDetectionRow } from '../../hub/src/services/ingest-sql.js';
import { createServices } from '../../hub/src/services/index.js';
import { IngestService } from '../../hub/src/services/ingest.js';
import { CITY } from './api-data.js';

const BATCH_SIZE = 500;
const DEVICES = 50;
const CONCURRENCY = 4;
const ROUNDS = 3;
const CLASSES = ['D00', 'D10', 'D20', 'D40'] as const;

/** Realistic batches: devices driving the city, a quarter of events on 200 shared spots, a few severe potholes. */
export function makePayloads(batches: number): Array<{ deviceId: string; payload: string }> {
  const [minLon, minLat, maxLon, maxLat] = CITY;
  const spots = Array.from({ length: 200 }, (_, i) => [minLat + ((i * 37) % 200) / 200 * (maxLat - minLat), minLon + ((i * 91) % 200) / 200 * (maxLon - minLon)] as const);
  const seq = new Array<number>(DEVICES).fill(0);
  const start = Date.now() - 86_400_000; // the last day: inside the hotspot window, so the rules do their real work
  return Array.from({ length: batches }, (_, b) => {
    const device = b % DEVICES;
    const deviceId = `ingest-${device}`;
    const events: RoadEvent[] = Array.from({ length: BATCH_SIZE }, (_, i) => {
      const n = ++seq[device]!;
      const spot = spots[(b * 7 + i) % spots.length]!;
      const onSpot = i % 4 === 0;
      return {
        eventId: newEventId(),
        seq: n,
        ts: new Date(start + n * 2_000 + device * 60_000).toISOString(),
        clock: 'gps',
        lat: onSpot ? spot[0] : minLat + (((n * 7919 + device * 104729) % 100_000) / 100_000) * (maxLat - minLat),
        lon: onSpot ? spot[1] : minLon + (((n * 15485863 + device) % 100_000) / 100_000) * (maxLon - minLon),
        accuracyM: 3,
        speedKmh: 42,
        headingDeg: (n * 13) % 360,
        class: CLASSES[(n + device) % 4]!,
        confidence: 0.4 + ((n * 31) % 60) / 100,
        hits: 3,
        model: 'road-damage-tiny@1',
      } as RoadEvent;
    });
    return { deviceId, payload: JSON.stringify({ v: 1, deviceId, batchId: newBatchId(), sentAt: new Date().toISOString(), events }) };
  });
}

type Mode = 'off' | 'aggregates' | 'on';

/** events/s until the last ack, and until the alarm rules queued by the batches have finished too. */
async function timed(mode: Mode, payloads: Array<{ deviceId: string; payload: string }>, logger: Logger): Promise<{ acked: number; settled: number }> {
  const pg = testDatabases().find((d) => d.name === 'postgres');
  if (!pg) throw new Error('no Postgres for the ingest comparison: set ROADWATCH_BENCH_DATABASE_URL or ROADWATCH_TEST_DATABASE_URL');
  const database = await pg.open();
  try {
    const services = mode === 'on' ? createServices({ database, logger }) : null;
    const ingest = services?.ingest ?? new IngestService({ db: database.db, logger, aggregates: mode === 'aggregates' });
    const warmUp = 4;
    for (const { deviceId, payload } of payloads.slice(0, warmUp)) await ingest.ingest(deviceId, payload, 'mqtt'); // plans, JIT
    await services?.alarmRules.idle();
    let next = warmUp;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < payloads.length) {
          const { deviceId, payload } = payloads[next++]!;
          await ingest.ingest(deviceId, payload, 'mqtt');
        }
      }),
    );
    const ackedS = (performance.now() - t0) / 1000;
    await services?.alarmRules.idle(); // the hotspot checks queued by the last batches count too
    const settledS = (performance.now() - t0) / 1000;
    const events = (payloads.length - warmUp) * BATCH_SIZE;
    return { acked: events / ackedS, settled: events / settledS };
  } finally {
    await database.close();
  }
}

export interface IngestComparison {
  batches: number;
  batchSize: number;
  rounds: number;
  /** Median events/s: off (the reference), aggregates only, on (acked), on (rules settled). */
  off: number;
  aggregatesOnly: number;
  onAcked: number;
  onSettled: number;
  /** Median of each round's on (settled) / off. */
  ratio: number;
}

export async function measureIngest(adminUrl: string, batches: number, logger: Logger, say: (line: string) => void): Promise<IngestComparison> {
  process.env.ROADWATCH_TEST_DATABASE_URL = adminUrl;
  const runs: Record<Mode, Array<{ acked: number; settled: number }>> = { off: [], aggregates: [], on: [] };
  const ratios: number[] = [];
  const rate = (n: number) => Math.round(n).toLocaleString('en');
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['off', 'aggregates', 'on'] as const) runs[mode].push(await timed(mode, makePayloads(batches), logger));
    ratios.push(runs.on.at(-1)!.settled / runs.off.at(-1)!.settled);
    say(`ingest round ${round + 1}: off ${rate(runs.off.at(-1)!.settled)}, aggregates only ${rate(runs.aggregates.at(-1)!.settled)}, on ${rate(runs.on.at(-1)!.acked)} acked / ${rate(runs.on.at(-1)!.settled)} with the rules settled (events/s)`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    batches,
    batchSize: BATCH_SIZE,
    rounds: ROUNDS,
    off: median(runs.off.map((r) => r.settled)),
    aggregatesOnly: median(runs.aggregates.map((r) => r.settled)),
    onAcked: median(runs.on.map((r) => r.acked)),
    onSettled: median(runs.on.map((r) => r.settled)),
    ratio: median(ratios),
  };
}

/** Where one batch's time goes inside the ingest statement: EXPLAIN ANALYZE of a batch after `warm` batches, per write. */
export interface StatementSplit {
  /** Milliseconds per written table (the Insert/Update node's actual total time), and the alarms.latest trigger. */
  parts: Array<{ part: string; ms: number; rows: number }>;
  totalMs: number;
}

const NODE_TABLES: Array<[RegExp, string]> = [
  [/Insert on detections/, 'detections (insert)'],
  [/Insert on agg_hourly_device/, 'agg_hourly_device (upsert)'],
  [/Insert on agg_hourly_cell/, 'agg_hourly_cell (upsert)'],
  [/Insert on agg_daily_cell/, 'agg_daily_cell (upsert)'],
  [/Insert on alarms/, 'alarms: severe damage (upsert)'],
];

export async function explainBatch(adminUrl: string, warm: number, logger: Logger): Promise<StatementSplit> {
  process.env.ROADWATCH_TEST_DATABASE_URL = adminUrl;
  const pg = testDatabases().find((d) => d.name === 'postgres');
  if (!pg) throw new Error('no Postgres for the ingest split: set ROADWATCH_BENCH_DATABASE_URL or ROADWATCH_TEST_DATABASE_URL');
  const database = await pg.open();
  try {
    const services = createServices({ database, logger });
    const payloads = makePayloads(warm + 1);
    for (const { deviceId, payload } of payloads.slice(0, warm)) await services.ingest.ingest(deviceId, payload, 'mqtt');
    await services.alarmRules.idle();
    const { deviceId, payload } = payloads[warm]!;
    const batch = JSON.parse(payload) as { batchId: string; events: RoadEvent[] };
    const events = batch.events.map((e) => toDetectionRow(e, DEFAULT_H3_RESOLUTION));
    const statement = ingestStatement({ deviceId, batchId: batch.batchId, now: new Date().toISOString(), events, quarantine: [], severe: services.alarmRules.severeFor(deviceId, events) });
    const plan = (await execRows<{ 'QUERY PLAN': string }>(database.db, sql`explain (analyze, timing on) ${statement}`)).map((r) => r['QUERY PLAN']);
    const parts: StatementSplit['parts'] = [];
    for (const line of plan) {
      const named = NODE_TABLES.find(([re]) => re.test(line));
      const time = /actual time=[\d.]+\.\.([\d.]+) rows=(\d+)/.exec(line);
      if (named && time) parts.push({ part: named[1], ms: Number(time[1]), rows: Number(time[2]) });
      const trigger = /^Trigger (\S+) on alarms: time=([\d.]+)/.exec(line);
      if (trigger) parts.push({ part: `trigger ${trigger[1]}`, ms: Number(trigger[2]), rows: 0 });
    }
    const total = /Execution Time: ([\d.]+) ms/.exec(plan.find((l) => l.startsWith('Execution Time')) ?? '');
    return { parts, totalMs: total ? Number(total[1]) : NaN };
  } finally {
    await database.close();
  }
}
