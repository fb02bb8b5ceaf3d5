// Ingest with alarms and aggregates maintained against the same ingest with both off: the same batches,
// through IngestService into fresh real-Postgres databases, rounds alternating so drifting load hits both.
import { newBatchId, newEventId, type RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { execRows } from '../../hub/src/db/rows.js';
import { testDatabases } from '../../hub/src/db/testing/databases.js';
import { ingestStatement, toDetectionRow } from '../../hub/src/services/ingest-sql.js';
import { createServices } from '../../hub/src/services/index.js';
import { IngestService } from '../../hub/src/services/ingest.js';
import { mulberry32 } from '../../models/scene/random.js';
import { commandCpuSeconds } from '../fleet/stats.js';
import { CITY } from './api-data.js';

const BATCH_SIZE = 500;
const DEVICES = 50;
const CONCURRENCY = 4;
const ROUNDS = 3;
const CLASSES = ['D00', 'D10', 'D20', 'D40'] as const;

const ROUTES = 10;
const ROUTE_DEFECTS = 4_000;
/** One event every 2 s at 42 km/h: a defect every ~23 m of a bad road. */
const STEP_M = 23;
const M_PER_DEG_LAT = 111_320;

interface Defect {
  lat: number;
  lon: number;
  class: (typeof CLASSES)[number];
  confidence: number;
}

/**
 * Routes the fleet shares: random walks through the city with a defect every STEP_M, each defect with
 * its class and how clearly it shows. Fleets drive the same streets, so several vehicles see each defect.
 */
function routes(random: () => number): Defect[][] {
  const [minLon, minLat, maxLon, maxLat] = CITY;
  const mPerDegLon = M_PER_DEG_LAT * Math.cos(((minLat + maxLat) / 2) * (Math.PI / 180));
  return Array.from({ length: ROUTES }, () => {
    let lat = minLat + random() * (maxLat - minLat);
    let lon = minLon + random() * (maxLon - minLon);
    let heading = random() * 2 * Math.PI;
    return Array.from({ length: ROUTE_DEFECTS }, () => {
      if (random() < 1 / 40) heading += (random() < 0.5 ? -1 : 1) * (Math.PI / 2); // a turn at a corner
      heading += (random() - 0.5) * 0.1;
      lat += (Math.cos(heading) * STEP_M) / M_PER_DEG_LAT;
      lon += (Math.sin(heading) * STEP_M) / mPerDegLon;
      if (lat < minLat || lat > maxLat || lon < minLon || lon > maxLon) {
        heading += Math.PI; // turn back at the city's edge
        lat = Math.min(maxLat, Math.max(minLat, lat));
        lon = Math.min(maxLon, Math.max(minLon, lon));
      }
      return { lat, lon, class: CLASSES[Math.floor(random() * CLASSES.length)]!, confidence: 0.4 + random() * 0.55 };
    });
  });
}

/**
 * Realistic batches, as a fleet's agents send them after a while offline: each of 50 vehicles drives
 * one of 10 shared routes (5 vehicles per route, starting at different points), one event per defect
 * passed, with GPS noise of a few metres and the detector's confidence varying around the defect's, in
 * the last day (inside the hotspot window, so the rules do their real work: the same defects are seen
 * by several vehicles). `scattered` instead spreads 3 of 4 events uniformly over the city and puts the
 * 4th on one of 200 spots: every event its own H3 cell, the rollups' worst case.
 */
export type Layout = 'routes' | 'scattered';

export function makePayloads(batches: number, layout: Layout = 'routes'): Array<{ deviceId: string; payload: string }> {
  const [minLon, minLat, maxLon, maxLat] = CITY;
  const random = mulberry32(20261204);
  const shared = routes(random);
  const spots = Array.from({ length: 200 }, (_, i) => [minLat + ((i * 37) % 200) / 200 * (maxLat - minLat), minLon + ((i * 91) % 200) / 200 * (maxLon - minLon)] as const);
  const seq = new Array<number>(DEVICES).fill(0);
  const start = Date.now() - 86_400_000;
  const jitter = () => ((random() - 0.5) * 6) / M_PER_DEG_LAT; // ±3 m
  return Array.from({ length: batches }, (_, b) => {
    const device = b % DEVICES;
    const deviceId = `ingest-${device}`;
    const route = shared[device % ROUTES]!;
    const events: RoadEvent[] = Array.from({ length: BATCH_SIZE }, (_, i) => {
      const n = ++seq[device]!;
      let at: { lat: number; lon: number; class: (typeof CLASSES)[number]; confidence: number };
      if (layout === 'routes') {
        const d = route[(Math.floor(device / ROUTES) * 797 + n) % route.length]!;
        at = { lat: d.lat + jitter(), lon: d.lon + jitter(), class: d.class, confidence: Math.min(0.99, Math.max(0.3, d.confidence + (random() - 0.5) * 0.1)) };
      } else {
        const spot = spots[(b * 7 + i) % spots.length]!;
        const onSpot = i % 4 === 0;
        at = {
          lat: onSpot ? spot[0] : minLat + (((n * 7919 + device * 104729) % 100_000) / 100_000) * (maxLat - minLat),
          lon: onSpot ? spot[1] : minLon + (((n * 15485863 + device) % 100_000) / 100_000) * (maxLon - minLon),
          class: CLASSES[(n + device) % 4]!,
          confidence: 0.4 + ((n * 31) % 60) / 100,
        };
      }
      return {
        eventId: newEventId(),
        seq: n,
        ts: new Date(start + n * 2_000 + device * 60_000).toISOString(),
        clock: 'gps',
        lat: at.lat,
        lon: at.lon,
        accuracyM: 3,
        speedKmh: 42,
        headingDeg: (n * 13) % 360,
        class: at.class,
        confidence: Math.round(at.confidence * 100) / 100,
        hits: 3,
        model: 'road-damage-tiny@1',
      } as RoadEvent;
    });
    return { deviceId, payload: JSON.stringify({ v: 1, deviceId, batchId: newBatchId(), sentAt: new Date().toISOString(), events }) };
  });
}

type Mode = 'off' | 'aggregates' | 'on';

interface Timed {
  acked: number;
  settled: number;
  /** CPU microseconds per event, from the first batch timed until settled: Postgres (all backends) and this process (the hub's services). */
  cpu: { postgres: number; hub: number };
}

const hubCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** events/s until the last ack, and until the alarm rules queued by the batches have finished too; CPU per event. */
async function timed(mode: Mode, payloads: Array<{ deviceId: string; payload: string }>, logger: Logger): Promise<Timed> {
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
    const cpu0 = { postgres: commandCpuSeconds('postgres'), hub: hubCpuSeconds() };
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
    await services?.alarmRules.flush(); // the hotspot checks queued by the last batches count too (run now, not after the window)
    const settledS = (performance.now() - t0) / 1000;
    const events = (payloads.length - warmUp) * BATCH_SIZE;
    const perEvent = (seconds: number) => (seconds * 1e6) / events;
    return {
      acked: events / ackedS,
      settled: events / settledS,
      cpu: { postgres: perEvent(commandCpuSeconds('postgres') - cpu0.postgres), hub: perEvent(hubCpuSeconds() - cpu0.hub) },
    };
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
  /** Median CPU microseconds per event of each mode (Postgres, hub), and on / off by total CPU per event, inverted (a second view of the same runs). */
  cpu: Record<Mode, { postgres: number; hub: number }>;
  cpuRatio: number;
}

export async function measureIngest(adminUrl: string, batches: number, logger: Logger, say: (line: string) => void, layout: Layout = 'routes', rounds = ROUNDS): Promise<IngestComparison> {
  process.env.ROADWATCH_TEST_DATABASE_URL = adminUrl;
  const runs: Record<Mode, Timed[]> = { off: [], aggregates: [], on: [] };
  const ratios: number[] = [];
  const rate = (n: number) => Math.round(n).toLocaleString('en');
  for (let round = 0; round < rounds; round++) {
    for (const mode of ['off', 'aggregates', 'on'] as const) runs[mode].push(await timed(mode, makePayloads(batches, layout), logger));
    ratios.push(runs.on.at(-1)!.settled / runs.off.at(-1)!.settled);
    const cpu = (mode: Mode) => `${Math.round(runs[mode].at(-1)!.cpu.postgres)} + ${Math.round(runs[mode].at(-1)!.cpu.hub)}`;
    say(
      `ingest round ${round + 1}: off ${rate(runs.off.at(-1)!.settled)}, aggregates only ${rate(runs.aggregates.at(-1)!.settled)}, on ${rate(runs.on.at(-1)!.acked)} acked / ${rate(runs.on.at(-1)!.settled)} with the rules settled (events/s); ` +
        `CPU µs per event (Postgres + hub): off ${cpu('off')}, aggregates only ${cpu('aggregates')}, on ${cpu('on')}`,
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpuOf = (mode: Mode) => ({ postgres: median(runs[mode].map((r) => r.cpu.postgres)), hub: median(runs[mode].map((r) => r.cpu.hub)) });
  const medianCpu = { off: cpuOf('off'), aggregates: cpuOf('aggregates'), on: cpuOf('on') };
  return {
    batches,
    batchSize: BATCH_SIZE,
    rounds,
    off: median(runs.off.map((r) => r.settled)),
    aggregatesOnly: median(runs.aggregates.map((r) => r.settled)),
    onAcked: median(runs.on.map((r) => r.acked)),
    onSettled: median(runs.on.map((r) => r.settled)),
    ratio: median(ratios),
    cpu: medianCpu,
    cpuRatio: (medianCpu.off.postgres + medianCpu.off.hub) / (medianCpu.on.postgres + medianCpu.on.hub),
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

export async function explainBatch(adminUrl: string, warm: number, logger: Logger, layout: Layout = 'routes'): Promise<StatementSplit> {
  process.env.ROADWATCH_TEST_DATABASE_URL = adminUrl;
  const pg = testDatabases().find((d) => d.name === 'postgres');
  if (!pg) throw new Error('no Postgres for the ingest split: set ROADWATCH_BENCH_DATABASE_URL or ROADWATCH_TEST_DATABASE_URL');
  const database = await pg.open();
  try {
    const services = createServices({ database, logger });
    const payloads = makePayloads(warm + 1, layout);
    for (const { deviceId, payload } of payloads.slice(0, warm)) await services.ingest.ingest(deviceId, payload, 'mqtt');
    await services.alarmRules.idle();
    const { deviceId, payload } = payloads[warm]!;
    const batch = JSON.parse(payload) as { batchId: string; events: RoadEvent[] };
    const events = batch.events.map((e) => toDetectionRow(e, { deviceId, batchId: batch.batchId }));
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
