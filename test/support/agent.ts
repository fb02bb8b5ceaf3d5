import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_BIN, ManagedProcess, runNode, spawnNode } from './processes.js';

export interface AgentOptions {
  dataDir: string;
  deviceId: string;
  secret: string;
  hubUrl: string;
  env?: NodeJS.ProcessEnv;
}

export function agentEnv(options: AgentOptions): NodeJS.ProcessEnv {
  return {
    ROADWATCH_DEVICE_ID: options.deviceId,
    ROADWATCH_DEVICE_SECRET: options.secret,
    ROADWATCH_HUB_URL: options.hubUrl,
    ROADWATCH_DATA: options.dataDir,
    ROADWATCH_LOG_LEVEL: 'info',
    ...options.env,
  };
}

export function startAgent(options: AgentOptions): ManagedProcess {
  return spawnNode(AGENT_BIN, ['run'], agentEnv(options), `agent ${options.deviceId}`);
}

export async function replay(dataDir: string, file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runNode(AGENT_BIN, ['replay', '--events', file, '--json'], { ROADWATCH_DATA: dataDir }, 120_000);
}

export interface OutboxEntry {
  seq: number;
  eventId: string;
}

/** Reads the agent's SQLite outbox directly (read-only), as a technician's sqlite3 would. */
export function readOutbox(dataDir: string): OutboxEntry[] {
  const path = join(dataDir, 'outbox.sqlite');
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return db.prepare('SELECT seq, event_id AS eventId FROM events ORDER BY seq').all() as OutboxEntry[];
  } finally {
    db.close();
  }
}

/** Rows still in the outbox (a cheap COUNT, for polling). */
export function outboxDepth(dataDir: string): number {
  const path = join(dataDir, 'outbox.sqlite');
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
