// The data set behind bench:api: a month of a city fleet's detections, made once into a database of
// its own and kept there (loading 10 M rows takes minutes; queries are what the bench measures).
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { latLngToCell } from 'h3-js';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from 'pino';
import { openDatabase, redactUrl } from '../../hub/src/db/client.js';
import { AggregatesService } from '../../hub/src/services/aggregates.js';
import { mulberry32 } from '../../models/scene/random.js';

/** Bump when the generator changes: a database made by another version is reloaded. (2: agg_daily_cell, alarms.latest.) */
const GENERATOR_VERSION = 2;

export interface DataSpec {
  rows: number;
  devices: number;
  days: number;
  /** Exclusive end of the month of data. */
  end: Date;
  /** [minLon, minLat, maxLon, maxLat] of the city. */
  bbox: [number, number, number, number];
  hotspots: number;
  h3Resolution: number;
  seed: number;
}

export const CITY: DataSpec['bbox'] = [13.2, 52.4, 13.6, 52.62]; // Berlin, inside the ring

export const DEFAULT_SPEC: DataSpec = {
  rows: 10_000_000,
  devices: 2_000,
  days: 30,
  end: new Date('2026-11-01T00:00:00Z'),
  bbox: CITY,
  hotspots: 400,
  h3Resolution: 9,
  seed: 20261101,
};

const CLASSES = [
  ['D00', 0.35],
  ['D10', 0.25],
  ['D20', 0.2],
  ['D40', 0.2],
] as const;

export function deviceName(i: number): string {
  return `bench-${String(i).padStart(5, '0')}`;
}

/** mulberry32: small, fast and seedable; the data set is the same on every machine. */
const prng = mulberry32;

const COLUMNS = 'event_id, device_id, seq, ts, clock, lat, lon, accuracy_m, speed_kmh, heading_deg, class, confidence, hits, model, h3_cell, batch_id';

/**
 * CSV lines for `rows` detections: 60 % spread over the city, 40 % within ~25 m of one of the hotspot
 * centres (the damage many vehicles keep seeing). Event ids are random (uuid v4, as the agent makes them).
 */
export async function* detectionCsv(spec: DataSpec): AsyncGenerator<string> {
  const rand = prng(spec.seed);
  const [minLon, minLat, maxLon, maxLat] = spec.bbox;
  const centres = Array.from({ length: spec.hotspots }, () => [minLat + rand() * (maxLat - minLat), minLon + rand() * (maxLon - minLon)] as const);
  const seq = new Array<number>(spec.devices).fill(0);
  const batches = Array.from({ length: spec.devices }, () => randomUUID());
  const startMs = spec.end.getTime() - spec.days * 86_400_000;
  const spanMs = spec.days * 86_400_000;
  const mPerDegLat = 111_320;
  const mPerDegLon = 111_320 * Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  let chunk = '';
  for (let i = 0; i < spec.rows; i++) {
    const device = Math.floor(rand() * spec.devices);
    let lat: number;
    let lon: number;
    if (rand() < 0.4) {
      const [cLat, cLon] = centres[Math.floor(rand() * centres.length)]!;
      lat = cLat + ((rand() - 0.5) * 50) / mPerDegLat;
      lon = cLon + ((rand() - 0.5) * 50) / mPerDegLon;
    } else {
      lat = minLat + rand() * (maxLat - minLat);
      lon = minLon + rand() * (maxLon - minLon);
    }
    let pick = rand();
    let cls: string = CLASSES[0][0];
    for (const [name, share] of CLASSES) {
      cls = name;
      if ((pick -= share) < 0) break;
    }
    const n = ++seq[device]!;
    if (n % 500 === 0) batches[device] = randomUUID();
    const ts = new Date(startMs + rand() * spanMs).toISOString();
    const confidence = (0.3 + rand() * 0.69).toFixed(3);
    chunk += `${randomUUID()},${deviceName(device)},${n},${ts},gps,${lat.toFixed(7)},${lon.toFixed(7)},3,${(30 + rand() * 30).toFixed(1)},${(rand() * 360).toFixed(1)},${cls},${confidence},3,road-damage-tiny@1,${latLngToCell(lat, lon, spec.h3Resolution)},${batches[device]}\n`;
    if (chunk.length > 256 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The bench database's URL on the same server as `adminUrl`, created when missing. */
export async function benchDatabase(adminUrl: string, name = 'roadwatch_bench'): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect().catch((err: Error) => {
    throw new Error(`cannot reach Postgres at ${redactUrl(adminUrl)}: ${err.message} — start Postgres or set ROADWATCH_BENCH_DATABASE_URL`);
  });
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (!exists.rowCount) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const specKey = (spec: DataSpec) => JSON.stringify({ v: GENERATOR_VERSION, ...spec, end: spec.end.toISOString() });

export interface LoadReport {
  reused: boolean;
  rows: number;
  copySeconds: number;
  indexSeconds: number;
  aggregatesSeconds: number;
  alarms: number;
}

/**
 * Makes sure the database at `url` holds exactly the data of `spec` (migrated schema, detections,
 * rollups, alarm history); loads it when it does not. Indexes on detections are dropped for the COPY
 * and rebuilt after it, as any bulk load does.
 */
export async function ensureData(url: string, spec: DataSpec, logger: Logger, progress: (line: string) => void): Promise<LoadReport> {
  const database = await openDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 4, logger });
  await database.migrate();
  await database.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('create table if not exists bench_meta (spec text not null)');
    const have = await client.query<{ spec: string }>('select spec from bench_meta');
    if (have.rows[0]?.spec === specKey(spec)) {
      const { rows } = await client.query<{ n: string }>('select count(*) as n from detections');
      const alarms = await client.query<{ n: string }>('select count(*) as n from alarms');
      return { reused: true, rows: Number(rows[0]!.n), copySeconds: 0, indexSeconds: 0, aggregatesSeconds: 0, alarms: Number(alarms.rows[0]!.n) };
    }
    progress(`loading ${spec.rows.toLocaleString('en')} detections into ${redactUrl(url)} (once; later runs reuse them)`);
    await client.query('truncate detections, agg_hourly_device, agg_hourly_cell, agg_daily_cell, agg_device_numbers, alarms, bench_meta restart identity');
    const indexes = await client.query<{ name: string; def: string }>(
      `select indexname as name, indexdef as def from pg_indexes
        where tablename = 'detections' and indexname not in (select conname from pg_constraint where conrelid = 'detections'::regclass)`,
    );
    for (const ix of indexes.rows) await client.query(`drop index ${ix.name}`);

    let t = performance.now();
    const copy = client.query(copyFrom(`copy detections (${COLUMNS}) from stdin with (format csv)`));
    let sent = 0;
    const ticker = setInterval(() => progress(`  copied ~${(sent / 1e6).toFixed(1)} M rows`), 15_000);
    async function* counted() {
      for await (const chunk of detectionCsv(spec)) {
        sent += (chunk.match(/\n/g) ?? []).length;
        yield chunk;
      }
    }
    await pipeline(Readable.from(counted()), copy).finally(() => clearInterval(ticker));
    const copySeconds = (performance.now() - t) / 1000;
    progress(`  COPY: ${copy.rowCount.toLocaleString('en')} rows in ${copySeconds.toFixed(0)} s`);

    t = performance.now();
    for (const ix of indexes.rows) await client.query(ix.def);
    await client.query('analyze detections');
    const indexSeconds = (performance.now() - t) / 1000;
    progress(`  indexes rebuilt in ${indexSeconds.toFixed(0)} s`);

    t = performance.now();
    const db = await openDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 2, logger });
    try {
      await new AggregatesService({ db: db.db, logger, h3Resolution: spec.h3Resolution }).rebuild();
    } finally {
      await db.close();
    }
    await client.query('analyze agg_hourly_device; analyze agg_hourly_cell; analyze agg_daily_cell; analyze agg_device_numbers');
    const aggregatesSeconds = (performance.now() - t) / 1000;
    progress(`  aggregates rebuilt in ${aggregatesSeconds.toFixed(0)} s`);

    const alarms = await insertAlarmHistory(client, spec);
    await client.query('insert into bench_meta (spec) values ($1)', [specKey(spec)]);
    return { reused: false, rows: copy.rowCount, copySeconds, indexSeconds, aggregatesSeconds, alarms };
  } finally {
    await client.end();
  }
}

/**
 * A month of alarm history: per device a few offline spells (cleared, the last one sometimes still open),
 * and per busy cell severe-damage and hotspot alarms, most cleared. Made with SQL from the loaded rows.
 */
async function insertAlarmHistory(client: pg.Client, spec: DataSpec): Promise<number> {
  const start = new Date(spec.end.getTime() - spec.days * 86_400_000).toISOString();
  await client.query(
    `insert into alarms (type, source, device_id, severity, status, message, created_at, updated_at, last_seen_at, cleared_at, cleared_by)
     select 'device_offline', d.id, d.id, 'major',
            case when k < 6 or d.n % 10 <> 0 then 'cleared' else 'active_unack' end,
            d.id || ' went silent', t, t, t,
            case when k < 6 or d.n % 10 <> 0 then t + interval '2 hours' end,
            case when k < 6 or d.n % 10 <> 0 then 'rule' end
       from (select 'bench-' || lpad(g::text, 5, '0') as id, g as n from generate_series(0, $1 - 1) g) d
       cross join generate_series(1, 6) k
       cross join lateral (select $2::timestamptz + (k * 4 + d.n % 4) * interval '1 day' as t) x`,
    [spec.devices, start],
  );
  await client.query(
    `insert into alarms (type, source, device_id, severity, status, message, created_at, updated_at, last_seen_at, cleared_at, cleared_by, count)
     select kind.type, c.cell, null, kind.severity,
            case when c.rank % 3 = 0 then 'active_unack' when c.rank % 3 = 1 then 'active_ack' else 'cleared' end,
            kind.type || ' in cell ' || c.cell, c.first, c.first, c.first,
            case when c.rank % 3 = 2 then c.first + interval '1 day' end,
            case when c.rank % 3 = 2 then 'fleet-manager' end, c.events
       from (select cell, sum(events)::int as events, min(hour) as first, row_number() over (order by sum(events) desc) as rank
               from agg_hourly_cell group by cell order by sum(events) desc limit 20000) c
       cross join (values ('severe_damage', 'critical'), ('hotspot', 'major')) as kind(type, severity)
      where kind.type = 'severe_damage' or c.rank <= 2000`,
  );
  await client.query('vacuum analyze alarms');
  const { rows } = await client.query<{ n: string }>('select count(*) as n from alarms');
  return Number(rows[0]!.n);
}
