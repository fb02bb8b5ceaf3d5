import { existsSync } from 'node:fs';
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
