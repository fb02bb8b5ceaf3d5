import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { AgentConfigSchema, type AgentConfig } from '../../config/schema.js';
import { SqliteOutbox } from '../../outbox/sqlite-outbox.js';

export interface LogLine {
  level: number;
  msg: string;
  module?: string;
  [key: string]: unknown;
}

/** A pino logger whose JSON lines are kept in memory for assertions. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

export function testConfig(overrides: { hubUrl: string; deviceId?: string; dataDir?: string; uplink?: Record<string, unknown>; outbox?: Record<string, unknown>; camera?: Record<string, unknown>; gps?: Record<string, unknown>; detector?: Record<string, unknown> }): AgentConfig {
  return AgentConfigSchema.parse({
    deviceId: overrides.deviceId ?? 'veh-test',
    deviceSecret: 'secret-for-tests',
    hubUrl: overrides.hubUrl,
    dataDir: overrides.dataDir ?? '/nonexistent',
    outbox: { pollMs: 50, ...overrides.outbox },
    uplink: { backoffMinMs: 20, backoffMaxMs: 200, ackTimeoutMs: 5_000, statusIntervalMs: 60_000, ...overrides.uplink },
    ...(overrides.camera ? { camera: overrides.camera } : {}),
    ...(overrides.gps ? { gps: overrides.gps } : {}),
    ...(overrides.detector ? { detector: overrides.detector } : {}),
  });
}

/** A real SqliteOutbox in a fresh temp dir; `cleanup()` closes and deletes it. */
export function tempOutbox(logger: Logger): { outbox: SqliteOutbox; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'roadwatch-uplink-'));
  const outbox = SqliteOutbox.open({ path: join(dir, 'outbox.sqlite'), logger, maxBytes: 1024 ** 3, maxAgeMs: 30 * 86_400_000 });
  return {
    outbox,
    dir,
    cleanup: () => {
      outbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
