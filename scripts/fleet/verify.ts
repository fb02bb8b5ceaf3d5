// Exactly once: every event a simulated vehicle generated is in the hub's detections table once.
// Each vehicle numbers its events 1…n (seq) and gives each a fresh UUIDv7; a resend carries the same
// event ids. So per vehicle the table must hold n rows, n distinct event ids and n distinct seqs
// from 1 to n: a lost event shows as a missing seq, a double insert (a resend stored under another
// id) as a repeated seq. With the generated ids kept (small runs) the id sets are compared exactly.
import { sql } from 'drizzle-orm';
import type { Db } from '../../hub/src/db/client.js';
import { execRows } from '../../hub/src/db/rows.js';

export interface ExactlyOnceReport {
  ok: boolean;
  /** Events the vehicles generated (distinct event ids sent). */
  sent: number;
  /** Rows in detections for those vehicles. */
  rows: number;
  distinctEventIds: number;
  /** Sent events with no row. */
  missing: number;
  /** Rows beyond one per sent event (a duplicate stored twice, or an event nobody sent). */
  extra: number;
  /** Vehicles whose rows do not match what they sent. */
  badVehicles: string[];
  /** Whether the id sets were compared one by one (small runs). */
  exactIds: boolean;
  seconds: number;
}

export async function verifyExactlyOnce(
  db: Pick<Db, 'execute'>,
  sent: ReadonlyArray<{ deviceId: string; generated: number; seqBefore?: number }>,
  eventIds: ReadonlySet<string> | null = null,
): Promise<ExactlyOnceReport> {
  const started = performance.now();
  // Only this run's events: a vehicle's seq goes on from where its earlier runs left it (runFleet's
  // seqBefore), and later runs go on after it. A resend keeps its seq, so a double insert repeats one.
  const runs = sql.join(sent.map((s) => sql`(${s.deviceId}::text, ${s.seqBefore ?? 0}::bigint, ${(s.seqBefore ?? 0) + s.generated}::bigint)`), sql`, `);
  const scope = sql`detections d join (values ${runs}) as r(device_id, seq_before, seq_last) on d.device_id = r.device_id and d.seq > r.seq_before and d.seq <= r.seq_last`;
  const rows = await execRows<{ device_id: string; n: number; ids: number; seqs: number; lo: number; hi: number }>(
    db,
    sql`select d.device_id, count(*)::int as n, count(distinct d.event_id)::int as ids, count(distinct d.seq)::int as seqs,
          (min(d.seq) - min(r.seq_before))::int as lo, (max(d.seq) - min(r.seq_before))::int as hi
        from ${scope} group by d.device_id`,
  );
  const byDevice = new Map(rows.map((r) => [r.device_id, r]));
  let total = 0;
  let distinct = 0;
  let missing = 0;
  let extra = 0;
  const badVehicles: string[] = [];
  for (const s of sent) {
    const r = byDevice.get(s.deviceId) ?? { n: 0, ids: 0, seqs: 0, lo: 0, hi: 0 };
    total += r.n;
    distinct += r.ids;
    const ok = r.n === s.generated && r.ids === s.generated && r.seqs === s.generated && (s.generated === 0 || (r.lo === 1 && r.hi === s.generated));
    if (!ok) badVehicles.push(s.deviceId);
    missing += Math.max(0, s.generated - Math.min(r.seqs, r.hi));
    extra += Math.max(0, r.n - r.seqs) + Math.max(0, r.hi - s.generated);
  }
  let exactIds = false;
  if (eventIds) {
    exactIds = true;
    const stored = await execRows<{ event_id: string }>(db, sql`select d.event_id::text as event_id from ${scope}`);
    let found = 0;
    for (const r of stored) if (eventIds.has(r.event_id)) found += 1;
    missing = Math.max(missing, eventIds.size - found);
    extra = Math.max(extra, stored.length - found);
  }
  const sentTotal = sent.reduce((n, s) => n + s.generated, 0);
  return {
    ok: badVehicles.length === 0 && missing === 0 && extra === 0 && total === sentTotal && (!eventIds || eventIds.size === sentTotal),
    sent: sentTotal,
    rows: total,
    distinctEventIds: distinct,
    missing,
    extra,
    badVehicles: badVehicles.slice(0, 20),
    exactIds,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Each vehicle's highest seq already stored (0 for a new one): a run goes on from there, as a real vehicle's counter does. */
export async function lastSeqs(db: Pick<Db, 'execute'>, deviceIds: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>(deviceIds.map((id) => [id, 0]));
  if (deviceIds.length === 0) return result;
  const inList = sql.join(deviceIds.map((id) => sql`${id}`), sql`, `);
  const rows = await execRows<{ device_id: string; hi: number }>(db, sql`select device_id, max(seq)::bigint as hi from detections where device_id in (${inList}) group by device_id`);
  for (const r of rows) result.set(r.device_id, Number(r.hi));
  return result;
}
