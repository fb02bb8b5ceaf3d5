import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { UserError } from '@roadwatch/shared';
import { createLogger } from '../logger.js';
import type { OutboxStats } from '../outbox/outbox.js';
import { outboxPath } from '../outbox/paths.js';
import { SqliteOutbox } from '../outbox/sqlite-outbox.js';
import { fieldLogLevel, loadFieldConfig } from './config.js';
import type { CliIo } from './io.js';

export interface QueueOptions {
  config?: string;
  json?: boolean;
}

export interface QueueReport {
  path: string;
  exists: boolean;
  depth: number;
  bytes: number;
  newestSeq: number | null;
  oldestCreatedAt: string | null;
  oldestUnsyncedAgeS: number | null;
  lastAckAt: string | null;
  evictedTotal: number;
}

const EMPTY: OutboxStats = { depth: 0, bytes: 0, oldestCreatedAt: null, newestSeq: null, lastAckAt: null, evictedTotal: 0 };

/** `roadwatch queue`: what waits in the outbox. Works while the service runs; never creates the file. */
export async function queueCommand(options: QueueOptions, io: CliIo): Promise<number> {
  const config = loadFieldConfig(options.config, io.env);
  const path = outboxPath(config.dataDir);
  const exists = existsSync(path);
  let stats = EMPTY;
  if (exists) {
    const outbox = SqliteOutbox.forConfig(config, { logger: createLogger({ level: fieldLogLevel(config.logLevel), destination: io.stderr }), clock: io.clock });
    try {
      stats = outbox.stats();
    } finally {
      outbox.close();
    }
  }
  const report = toReport(path, exists, stats, io.clock());
  io.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report, stats, io.clock()));
  return 0;
}

function toReport(path: string, exists: boolean, stats: OutboxStats, now: number): QueueReport {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    path,
    exists,
    depth: stats.depth,
    bytes: stats.bytes,
    newestSeq: stats.newestSeq,
    oldestCreatedAt: iso(stats.oldestCreatedAt),
    oldestUnsyncedAgeS: stats.oldestCreatedAt === null ? null : Math.max(0, Math.round((now - stats.oldestCreatedAt) / 1000)),
    lastAckAt: iso(stats.lastAckAt),
    evictedTotal: stats.evictedTotal,
  };
}

function formatReport(report: QueueReport, stats: OutboxStats, now: number): string {
  const rows: Array<[string, string]> = [
    ['outbox', report.exists ? report.path : `${report.path} (not created yet: nothing queued)`],
    ['depth', `${report.depth.toLocaleString('en-US')} event${report.depth === 1 ? '' : 's'}`],
    ['bytes', formatBytes(report.bytes)],
    ['oldest unsynced', stats.oldestCreatedAt === null ? '—' : `${formatAge(now - stats.oldestCreatedAt)} (since ${report.oldestCreatedAt})`],
    ['last ack', stats.lastAckAt === null ? 'never' : `${report.lastAckAt} (${formatAge(now - stats.lastAckAt)} ago)`],
    ['evicted total', `${report.evictedTotal.toLocaleString('en-US')}${report.evictedTotal > 0 ? ' (lost to the byte or age cap)' : ''}`],
    ['newest seq', report.newestSeq === null ? '—' : String(report.newestSeq)],
  ];
  return `${rows.map(([k, v]) => `${k.padEnd(16)} ${v}`).join('\n')}\n`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) [value, unit] = [value / 1024, unit + 1];
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

export interface QueueListOptions {
  config?: string;
  limit?: number;
  json?: boolean;
}

/** Opens the outbox when it exists (never creates it); null when nothing was ever queued. */
function openExisting(options: { config?: string }, io: CliIo): { outbox: SqliteOutbox; path: string } | { outbox: null; path: string } {
  const config = loadFieldConfig(options.config, io.env);
  const path = outboxPath(config.dataDir);
  if (!existsSync(path)) return { outbox: null, path };
  return { outbox: SqliteOutbox.forConfig(config, { logger: createLogger({ level: fieldLogLevel(config.logLevel), destination: io.stderr }), clock: io.clock }), path };
}

/** `roadwatch queue list`: the oldest unsynced events, the next to be sent. Works while the service runs. */
export async function queueListCommand(options: QueueListOptions, io: CliIo): Promise<number> {
  const limit = options.limit ?? 20;
  const { outbox, path } = openExisting(options, io);
  if (!outbox) {
    if (!options.json) io.stdout.write(`${path}: not created yet (nothing queued)\n`);
    return 0;
  }
  try {
    const rows = outbox.readAfter(0, limit, Number.POSITIVE_INFINITY);
    const depth = outbox.stats().depth;
    if (options.json) {
      for (const row of rows) io.stdout.write(`${JSON.stringify({ seq: row.seq, eventId: row.eventId, queuedAt: new Date(row.createdAt).toISOString(), bytes: row.bytes, event: JSON.parse(row.payload) as unknown })}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write('the outbox is empty: everything reached the hub\n');
      return 0;
    }
    const now = io.clock();
    const header = ['seq', 'event id', 'time (clock)', 'class', 'conf', 'lat', 'lon', 'queued'];
    const lines = rows.map((row) => {
      const e = JSON.parse(row.payload) as { eventId: string; ts: string; clock: string; class: string; confidence: number; lat: number; lon: number };
      return [String(row.seq), e.eventId, `${e.ts} (${e.clock})`, e.class, e.confidence.toFixed(2), e.lat.toFixed(6), e.lon.toFixed(6), `${formatAge(now - row.createdAt)} ago`];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    io.stdout.write(`${[fmt(header), ...lines.map(fmt)].join('\n')}\n`);
    if (depth > rows.length) io.stdout.write(`… and ${(depth - rows.length).toLocaleString('en-US')} more (oldest first; --limit N shows more)\n`);
    return 0;
  } finally {
    outbox.close();
  }
}

export interface QueueExportOptions {
  config?: string;
  force?: boolean;
  json?: boolean;
}

const EXPORT_CHUNK = 1000;

/**
 * `roadwatch queue export FILE.jsonl`: every unsynced event, oldest first, one wire-format event per
 * line (with its eventId and seq, so the hub recognises one that arrives twice). The events stay in
 * the outbox and still sync.
 */
export async function queueExportCommand(file: string, options: QueueExportOptions, io: CliIo): Promise<number> {
  if (existsSync(file) && !options.force) throw new UserError(`${file} exists`, 'pass --force to overwrite it, or name another file');
  const { outbox } = openExisting(options, io);
  let out;
  try {
    out = createWriteStream(file, { flags: 'w' });
    await once(out, 'open');
  } catch (error) {
    outbox?.close();
    throw new UserError(`cannot write ${file}: ${(error as Error).message}`, 'pass a path in a folder you can write to');
  }
  let events = 0;
  let bytes = 0;
  try {
    let after = 0;
    for (;;) {
      const rows = outbox ? outbox.readAfter(after, EXPORT_CHUNK, Number.POSITIVE_INFINITY) : [];
      if (rows.length === 0) break;
      const text = `${rows.map((r) => r.payload).join('\n')}\n`;
      if (!out.write(text)) await once(out, 'drain');
      events += rows.length;
      bytes += Buffer.byteLength(text);
      after = rows[rows.length - 1]!.seq;
    }
  } finally {
    outbox?.close();
    out.end();
    await once(out, 'close');
  }
  const result = { file, events, bytes };
  io.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `exported ${events.toLocaleString('en-US')} events (${formatBytes(bytes)}) to ${file}; they stay in the outbox and still sync\n`);
  return 0;
}
