import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { HubDatabase, PoolStats } from '../db/client.js';
import { migrationStatus, type MigrationStatus } from '../db/migrations.js';
import { execRows } from '../db/rows.js';

/** What the broker reports about itself (MqttBroker.stats). */
export interface BrokerDiagnostics {
  listening: boolean;
  clients: number;
  ingestInFlight: number;
}

export interface Diagnostics {
  /** `ok` when the database answers, every shipped migration is applied and the broker listens. */
  status: 'ok' | 'degraded';
  /** One line per problem found, naming the cause and the fix. */
  problems: string[];
  startedAt: string;
  uptimeS: number;
  versions: { hub: string; node: string; protocol: number; database: string | null };
  database: { kind: HubDatabase['kind']; reachable: boolean; latencyMs: number | null; error: string | null; pool: PoolStats | null };
  migrations: (MigrationStatus & { error: null }) | { error: string };
  broker: BrokerDiagnostics | null;
}

export interface DiagnosticsDeps {
  database: Pick<HubDatabase, 'db' | 'kind' | 'ping' | 'pool'>;
  /** The broker's state now; null before it started or after it stopped. */
  broker: () => BrokerDiagnostics | null;
  startedAt: Date;
  clock?: () => Date;
  /** How long each database check may take (default 2000 ms). */
  timeoutMs?: number;
}

/** `GET /health/diagnostics`: the state of each part of this hub, for an operator (admin scope). */
export class DiagnosticsService {
  private readonly clock: () => Date;
  private readonly timeoutMs: number;

  constructor(private readonly deps: DiagnosticsDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.timeoutMs = deps.timeoutMs ?? 2_000;
  }

  async report(): Promise<Diagnostics> {
    const { database } = this.deps;
    const problems: string[] = [];

    const started = performance.now();
    let reachable = false;
    let dbError: string | null = null;
    try {
      await this.within(database.ping(), 'the database ping');
      reachable = true;
    } catch (err) {
      dbError = message(err);
      problems.push(`database not reachable: ${dbError} — check that ${database.kind === 'postgres' ? 'Postgres runs and DATABASE_URL points at it' : 'the data dir is intact'}`);
    }
    const latencyMs = reachable ? round(performance.now() - started) : null;

    let migrations: Diagnostics['migrations'] = { error: 'database not reachable' };
    let dbVersion: string | null = null;
    if (reachable) {
      try {
        migrations = { ...(await this.within(migrationStatus(database.db), 'the migration check')), error: null };
        if (migrations.pending.length) {
          problems.push(`migrations not applied: ${migrations.pending.join(', ')} — run roadwatch-hub migrate (or restart serve, which applies them)`);
        }
      } catch (err) {
        migrations = { error: message(err) };
        problems.push(`cannot read the migration table: ${message(err)}`);
      }
      try {
        const [row] = await this.within(execRows<{ server_version: string }>(database.db, sql`show server_version`), 'the version query');
        dbVersion = row?.server_version ?? null;
      } catch {
        /* the version is informative only */
      }
    }

    const broker = this.deps.broker();
    if (!broker?.listening) problems.push('MQTT broker not listening (embedded) or not connected and subscribed (external) — the hub is starting or stopping, or the external broker is unreachable; if it stays so, see the hub log');

    const now = this.clock();
    return {
      status: problems.length ? 'degraded' : 'ok',
      problems,
      startedAt: this.deps.startedAt.toISOString(),
      uptimeS: Math.max(0, Math.round((now.getTime() - this.deps.startedAt.getTime()) / 1000)),
      versions: { hub: HUB_VERSION, node: process.version, protocol: PROTOCOL_VERSION, database: dbVersion },
      database: { kind: database.kind, reachable, latencyMs, error: dbError, pool: database.pool?.() ?? null },
      migrations,
      broker,
    };
  }

  private within<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** hub/package.json's version (src/services and dist/services are both two levels below it). */
export const HUB_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

function message(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
