// What a fleet run counts: batches, acks, publish-to-ack latencies, link drops, connects.
import { readdirSync, readFileSync } from 'node:fs';

export class FleetStats {
  batchesSent = 0;
  /** Batches sent again under a new batch id (after a link drop or an ack timeout). */
  batchesResent = 0;
  /** Acks that settled a pending batch (the first ack for it). */
  acks = 0;
  /** Acks for a batch already settled, or for an id the vehicle no longer knows (a resent batch's other copy). */
  acksLate = 0;
  acksInvalid = 0;
  /** Acks that carried `error` (the hub quarantined the whole payload). */
  ackErrors = 0;
  /** Events settled by acks (stored + duplicates + rejected, first ack only). */
  eventsSettled = 0;
  /** Ack fields summed over every ack received, late ones included. */
  ackedStored = 0;
  ackedDuplicates = 0;
  ackedRejected = 0;
  ackTimeouts = 0;
  connects = 0;
  connectErrors = 0;
  /** Links the simulator dropped on purpose (flap mode). */
  drops = 0;
  /** Links lost otherwise (broker closed them, keepalive). */
  linkLosses = 0;
  statusesSent = 0;
  lastError: string | null = null;
  /** Publish-to-ack latency of every settled batch, ms. */
  readonly latencies: number[] = [];
  /** Acks settled per whole second since `t0`. */
  readonly ackSeconds: number[] = [];
  /** Event ids generated, kept only for small runs (exact set comparison). */
  readonly eventIds: Set<string> | null;
  readonly t0 = performance.now();
  lastAckAt = 0;

  constructor(keepIds = false) {
    this.eventIds = keepIds ? new Set() : null;
  }

  onSettled(latencyMs: number, events: number, now: number): void {
    this.acks += 1;
    this.eventsSettled += events;
    this.latencies.push(latencyMs);
    const second = Math.floor((now - this.t0) / 1000);
    this.ackSeconds[second] = (this.ackSeconds[second] ?? 0) + 1;
    this.lastAckAt = now;
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[], from = 0): LatencySummary {
  const sorted = Float64Array.from(values.slice(from)).sort();
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN };
}

/** CPU seconds (user + system) of a process so far, from /proc (Linux); null when it is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    return statCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8')).own;
  } catch {
    return null;
  }
}

/**
 * CPU seconds from one /proc/<pid>/stat line: the process's own (utime + stime) and that of its
 * exited children it has waited for (cutime + cstime), in clock ticks of 100 a second.
 */
export function statCpuSeconds(stat: string): { name: string; own: number; reaped: number } {
  const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  // After "pid (comm) ": fields 3… of proc(5); [11]…[14] = utime, stime, cutime, cstime (fields 14–17).
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { name, own: (Number(f[11]) + Number(f[12])) / 100, reaped: (Number(f[13]) + Number(f[14])) / 100 };
}

/**
 * CPU seconds of every process whose command name is `comm` (e.g. all of a Postgres server's
 * backends), those that have exited included: a backend that ends (a pool closing an idle
 * connection) takes its CPU time to its parent's reaped-children counters, the postmaster's — the
 * live processes alone would lose it, and a begin/end difference could even go negative.
 */
export function commandCpuSeconds(comm: string): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cpu = statCpuSeconds(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (cpu.name === comm) total += cpu.own + cpu.reaped;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** CPU µs per stored event, per measured process and in all (`line`: "114 µs (hub 1 17, postgres 60, …)"). */
export function costPerEvent(cpu: ReadonlyArray<{ name: string; cpuSeconds: number }>, rows: number): { total: number; line: string } {
  const us = (s: number) => (s * 1e6) / Math.max(1, rows);
  const total = us(cpu.reduce((sum, c) => sum + c.cpuSeconds, 0));
  const round = (v: number) => Math.round(v).toLocaleString('en-US');
  return { total, line: `${round(total)} µs (${cpu.map((c) => `${c.name.split(' (')[0]} ${round(us(c.cpuSeconds))}`).join(', ')})` };
}
