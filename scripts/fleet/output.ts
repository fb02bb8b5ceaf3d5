// Shared by the simulator CLI and bench:fleet: the database, and how a run is printed.
import pg from 'pg';
import type { FleetResult } from './fleet.js';
import type { ExactlyOnceReport } from './verify.js';

export function databaseUrlFor(name: string, base = process.env.ROADWATCH_BENCH_DATABASE_URL ?? process.env.ROADWATCH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates the database when it does not exist. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

export function summary(r: FleetResult, v: ExactlyOnceReport) {
  const s = r.stats;
  return {
    mode: r.mode,
    vehicles: r.vehicles,
    connectSeconds: r.connectSeconds,
    connectLatencyMs: r.connectLatencyMs,
    eventsGenerated: r.eventsGenerated,
    seconds: r.seconds,
    storedPerSecond: r.storedPerSecond,
    settledPerSecond: r.settledPerSecond,
    acksPerSecond: r.acksPerSecond,
    latencyMs: r.latencyMs,
    loopDelayMs: r.loopDelayMs,
    drainSeconds: r.drainSeconds,
    tailSeconds: r.tailSeconds,
    drained: r.drained,
    batches: { sent: s.batchesSent, resent: s.batchesResent, acks: s.acks, lateAcks: s.acksLate, ackTimeouts: s.ackTimeouts, ackErrors: s.ackErrors },
    acked: { stored: s.ackedStored, duplicates: s.ackedDuplicates, rejected: s.ackedRejected },
    links: { connects: s.connects, connectErrors: s.connectErrors, drops: s.drops, losses: s.linkLosses, statuses: s.statusesSent },
    exactlyOnce: v,
  };
}

export function report(r: FleetResult, v: ExactlyOnceReport): string {
  const s = r.stats;
  const f = (n: number | null, d = 0) => (n === null || Number.isNaN(n) ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  return [
    `${r.mode}: ${f(r.vehicles)} vehicles, all online in ${f(r.connectSeconds, 1)} s (connect p50 ${f(r.connectLatencyMs.p50)} ms, p99 ${f(r.connectLatencyMs.p99)} ms)`,
    `  ${f(r.eventsGenerated)} events generated; measured over ${f(r.seconds, 1)} s${r.drainSeconds !== null ? ' (connect → last ack: the drain time)' : ' (window after warm-up)'}`,
    `  stored ${f(r.storedPerSecond)} events/s (Postgres count), settled by acks ${f(r.settledPerSecond)} events/s, ${f(r.acksPerSecond)} acks/s`,
    `  publish → ack latency: p50 ${f(r.latencyMs.p50)} ms, p95 ${f(r.latencyMs.p95)} ms, p99 ${f(r.latencyMs.p99)} ms, max ${f(r.latencyMs.max)} ms (${f(r.latencyMs.count)} batches)`,
    r.loopDelayMs ? `  simulator event-loop delay over the window: p50 ${f(r.loopDelayMs.p50)} ms, p99 ${f(r.loopDelayMs.p99)} ms, max ${f(r.loopDelayMs.max)} ms (part of the latency above)` : '',
    `  batches ${f(s.batchesSent)} sent, ${f(s.batchesResent)} resent, ${f(s.acksLate)} late acks, ${f(s.ackTimeouts)} ack timeouts; acks said ${f(s.ackedStored)} stored, ${f(s.ackedDuplicates)} duplicates, ${f(s.ackedRejected)} rejected`,
    `  links: ${f(s.connects)} connects, ${f(s.drops)} dropped on purpose, ${f(s.linkLosses)} lost, ${f(s.connectErrors)} connect errors; ${f(s.statusesSent)} statuses`,
    r.tailSeconds !== null ? `  last acks ${f(r.tailSeconds, 1)} s after production stopped${r.drained ? '' : ' — NOT DRAINED'}` : r.drained ? '' : '  NOT DRAINED within the timeout',
    `  exactly once: ${v.ok ? 'OK' : 'FAILED'} — ${f(v.sent)} distinct event ids sent, ${f(v.rows)} rows, ${f(v.distinctEventIds)} distinct ids stored, ${f(v.missing)} missing, ${f(v.extra)} extra${v.exactIds ? ' (id sets compared)' : ' (per-vehicle seq 1…n check)'}${v.badVehicles.length ? `; e.g. ${v.badVehicles.slice(0, 5).join(', ')}` : ''}`,
  ]
    .filter(Boolean)
    .join('\n');
}

