import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { HUB_BIN, runNode } from './processes.js';

/**
 * The checks every fault scenario ends with (docs/SCALE-OUT.md#fault-suite). Run them once the
 * system is quiet (agents drained, hubs idle); each returns what it found wrong as text, so a test
 * asserts `expect(report.violations).toEqual([])` and a failure lists every problem at once.
 *
 * 1. **Exactly once**: detections hold each expected event once — the count, the distinct
 *    event_ids and the set equal what the agents produced minus what their outboxes evicted (an
 *    evicted event must not be stored), one row per (device, seq), nothing in quarantine.
 * 2. **Aggregates = rebuild**: agg_hourly_device, agg_hourly_cell and agg_daily_cell (when the
 *    migration that adds it ran) are snapshotted, `roadwatch-hub aggregates rebuild` recomputes
 *    them from detections, and the tables must be equal row for row (bitmaps and numeric sums
 *    included). Their event totals must also equal the number of detections.
 * 3. **Alarms** (docs/ALARMS.md): at most one open alarm per (type, source); no alarm names a
 *    device that does not exist (device_id, the source of device_offline / outbox_backlog, the
 *    device part of a sensor_fault source); statuses agree with their timestamps; exactly one row
 *    per (type, source) is `latest`, the newest (when the column exists); severe_damage counted
 *    exactly once per stored qualifying event (sum of `count` = qualifying detections); open
 *    hotspots meet the thresholds their details name.
 */
export interface InvariantOptions {
  databaseUrl: string;
  /** Every event id the agents produced and did not evict: each must be stored exactly once. */
  expected: Iterable<string>;
  /** Event ids the agents' outboxes evicted (docs/OUTBOX.md): none may be stored. */
  evicted?: Iterable<string>;
  /** The hub's alarm config (defaults as in docs/ALARMS.md). */
  severe?: { classes: string[]; minConfidence: number };
  hotspot?: { minEvents: number; minDevices: number };
}

export interface InvariantReport {
  violations: string[];
  detections: number;
  rollupRows: Record<string, number>;
  alarms: Record<string, number>;
}

const ROLLUPS = ['agg_hourly_device', 'agg_hourly_cell', 'agg_daily_cell'] as const;

export async function checkInvariants(options: InvariantOptions): Promise<InvariantReport> {
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  const violations: string[] = [];
  try {
    const detections = await checkDetections(client, options, violations);
    const rollupRows = await checkRollups(client, options.databaseUrl, detections, violations);
    const alarms = await checkAlarms(client, options, violations);
    return { violations, detections, rollupRows, alarms };
  } finally {
    await client.end();
  }
}

async function checkDetections(client: pg.Client, options: InvariantOptions, violations: string[]): Promise<number> {
  const expected = new Set(options.expected);
  const evicted = new Set(options.evicted ?? []);
  const { rows } = await client.query<{ event_id: string; device_id: string; seq: string }>('select event_id::text as event_id, device_id, seq::text as seq from detections');
  const stored = new Map<string, number>();
  for (const r of rows) stored.set(r.event_id, (stored.get(r.event_id) ?? 0) + 1);
  const dupes = [...stored].filter(([, n]) => n > 1);
  if (dupes.length) violations.push(`detections: ${dupes.length} event ids stored more than once (e.g. ${dupes.slice(0, 3).map(([id, n]) => `${id}×${n}`).join(', ')})`);
  const missing = [...expected].filter((id) => !stored.has(id));
  if (missing.length) violations.push(`detections: ${missing.length} of ${expected.size} expected events not stored (e.g. ${missing.slice(0, 3).join(', ')})`);
  const unexpected = [...stored.keys()].filter((id) => !expected.has(id));
  const resurrected = unexpected.filter((id) => evicted.has(id));
  if (resurrected.length) violations.push(`detections: ${resurrected.length} evicted events were stored (e.g. ${resurrected.slice(0, 3).join(', ')})`);
  if (unexpected.length > resurrected.length) violations.push(`detections: ${unexpected.length - resurrected.length} stored events no agent produced (e.g. ${unexpected.filter((id) => !evicted.has(id)).slice(0, 3).join(', ')})`);
  if (rows.length !== expected.size) violations.push(`detections: ${rows.length} rows, expected ${expected.size}`);
  const seqs = new Set<string>();
  let seqDupes = 0;
  for (const r of rows) {
    const key = `${r.device_id}#${r.seq}`;
    if (seqs.has(key)) seqDupes++;
    seqs.add(key);
  }
  if (seqDupes) violations.push(`detections: ${seqDupes} (device, seq) pairs stored more than once`);
  const quarantined = await scalar(client, 'select count(*)::int as n from quarantine');
  if (quarantined) violations.push(`quarantine: ${quarantined} rows (every event sent was valid)`);
  return rows.length;
}

async function checkRollups(client: pg.Client, databaseUrl: string, detections: number, violations: string[]): Promise<Record<string, number>> {
  const tables = [];
  for (const table of ROLLUPS) if (await tableExists(client, table)) tables.push(table);
  const before = await snapshot(client, tables);
  const sums: Record<string, string> = { agg_hourly_device: 'events', agg_hourly_cell: 'events', agg_daily_cell: 'events' };
  for (const table of tables) {
    const total = await scalar(client, `select coalesce(sum(${sums[table]}), 0)::int as n from ${table}`);
    if (total !== detections) violations.push(`${table}: events sum to ${total}, detections hold ${detections}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'rw-rebuild-'));
  try {
    const result = await runNode(HUB_BIN, ['aggregates', 'rebuild', '--json'], { DATABASE_URL: databaseUrl, ROADWATCH_HUB_DATA: dataDir, ROADWATCH_HUB_LOG_LEVEL: 'warn' }, 120_000);
    if (result.code !== 0) {
      violations.push(`aggregates rebuild failed (${result.code}): ${result.stderr}${result.stdout}`);
      return {};
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const after = await snapshot(client, tables);
  const rowCounts: Record<string, number> = {};
  for (const table of tables) {
    const a = before[table]!;
    const b = after[table]!;
    rowCounts[table] = b.length;
    const [setA, setB] = [new Set(a), new Set(b)];
    const onlyBefore = a.filter((row) => !setB.has(row));
    const onlyAfter = b.filter((row) => !setA.has(row));
    if (a.length !== b.length || onlyBefore.length || onlyAfter.length) {
      violations.push(
        `${table}: ${a.length} rows maintained by ingest, ${b.length} after a rebuild; differing: ${onlyBefore.slice(0, 2).join(' ')} ⇄ ${onlyAfter.slice(0, 2).join(' ')}`,
      );
    }
  }
  return rowCounts;
}

/** Each table's rows as JSON text, sorted: numeric sums and bit strings compare exactly. */
async function snapshot(client: pg.Client, tables: string[]): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    const { rows } = await client.query<{ r: string }>(`select to_jsonb(t)::text as r from ${table} t order by 1`);
    out[table] = rows.map((row) => row.r);
  }
  return out;
}

async function checkAlarms(client: pg.Client, options: InvariantOptions, violations: string[]): Promise<Record<string, number>> {
  const severe = options.severe ?? { classes: ['D40'], minConfidence: 0.6 };
  const hotspot = options.hotspot ?? { minEvents: 5, minDevices: 2 };
  const check = async (what: string, query: string, params: unknown[] = []) => {
    const { rows } = await client.query(query, params);
    if (rows.length) violations.push(`alarms: ${what}: ${rows.length} (e.g. ${JSON.stringify(rows.slice(0, 3))})`);
  };
  await check('more than one open alarm for one (type, source)', `select type, source, count(*)::int as open from alarms where status <> 'cleared' group by 1, 2 having count(*) > 1`);
  await check('device_id names no registered device', `select id, type, device_id from alarms a where device_id is not null and not exists (select 1 from devices d where d.device_id = a.device_id)`);
  await check(
    'source names no registered device',
    `select id, type, source from alarms a where (type in ('device_offline', 'outbox_backlog') and not exists (select 1 from devices d where d.device_id = a.source))
       or (type = 'sensor_fault' and not exists (select 1 from devices d where d.device_id = split_part(a.source, '/', 1)))`,
  );
  await check(
    'status disagrees with its timestamps or count',
    `select id, status, acked_at, cleared_at, count from alarms where count < 1
       or (status = 'cleared' and cleared_at is null) or (status <> 'cleared' and cleared_at is not null)
       or (status = 'active_ack' and acked_at is null) or (status = 'active_unack' and acked_at is not null)`,
  );
  const columns = await client.query<{ column_name: string }>(`select column_name from information_schema.columns where table_name = 'alarms' and column_name = 'latest'`);
  if (columns.rows.length) {
    await check('(type, source) without exactly one latest row', `select type, source, count(*) filter (where latest)::int as latest from alarms group by 1, 2 having count(*) filter (where latest) <> 1`);
    await check(
      'latest is not the newest of its (type, source)',
      `select id, type, source from alarms a where latest and exists (select 1 from alarms b where b.type = a.type and b.source = a.source and (b.created_at, b.id) > (a.created_at, a.id))`,
    );
  }
  const qualifying = await scalar(client, `select count(*)::int as n from detections where class = any($1::text[]) and confidence >= $2::real`, [severe.classes, severe.minConfidence]);
  const sightings = await scalar(client, `select coalesce(sum(count), 0)::int as n from alarms where type = 'severe_damage'`);
  if (qualifying !== sightings) violations.push(`alarms: severe_damage counts ${sightings} sightings, detections hold ${qualifying} qualifying events (each must count exactly once)`);
  await check(
    'open hotspot below the thresholds its details name',
    `select id, source, details from alarms where type = 'hotspot' and status <> 'cleared' and ((details->>'events')::int < $1 or (details->>'devices')::int < $2)`,
    [hotspot.minEvents, hotspot.minDevices],
  );
  const { rows } = await client.query<{ type: string; n: number }>(`select type || ':' || status as type, count(*)::int as n from alarms group by 1 order by 1`);
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

async function tableExists(client: pg.Client, table: string): Promise<boolean> {
  return (await client.query(`select to_regclass($1) as t`, [table])).rows[0]!.t !== null;
}

async function scalar(client: pg.Client, query: string, params: unknown[] = []): Promise<number> {
  return Number((await client.query<{ n: number }>(query, params)).rows[0]!.n);
}
