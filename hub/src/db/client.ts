import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { UserError } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import type { Logger } from 'pino';
import { ensurePgliteInitialised } from './pglite-init.js';
import { acquirePgliteLock, pgliteDir } from './pglite-lock.js';
import * as schema from './schema.js';

export type HubSchema = typeof schema;
/** The driver-neutral drizzle handle every service uses: the same queries run on pg and PGlite. */
export type Db = PgDatabase<PgQueryResultHKT, HubSchema>;

export interface HubDatabase {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Applies the committed migrations in hub/drizzle; safe to run again and from several hubs at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Connection pool counters (Postgres); null for the embedded PGlite database, which has one connection. */
  pool?(): PoolStats | null;
}

/** pg.Pool's counters: `max` (db.poolSize), connections open (`total`), of those `idle`, and queries `waiting` for one. */
export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number | undefined;
  logger: Logger;
  /** PGlite only: keep the database in memory (tests). */
  inMemory?: boolean | undefined;
}

/** hub/drizzle, from src/db under vitest/tsx and from dist/db once built. */
export const MIGRATIONS_FOLDER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');
/** Serialises migrations when several hub replicas start together against one Postgres. */
const MIGRATION_LOCK_KEY = 0x7277_6d69; // "rwmi"

/** Opens Postgres when `databaseUrl` is set, else the embedded PGlite under `<dataDir>/pglite`. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<HubDatabase> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options);
}

/** The URL without its password, safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

async function openPostgres(url: string, options: OpenDatabaseOptions): Promise<HubDatabase> {
  const logger = options.logger.child({ db: 'postgres' });
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client losing its server (Postgres restart) must not crash the hub; the next query reconnects.
  pool.on('error', (err) => logger.warn({ err }, 'idle Postgres connection failed'));
  try {
    await pool.query('select 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw connectError(url, err);
  }
  const db = drizzleNodePg(pool, { schema });
  logger.info({ url: redactUrl(url) }, 'connected to Postgres');
  let closed = false;
  return {
    db,
    kind: 'postgres',
    async migrate() {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        try {
          await migrateNodePg(drizzleNodePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
      logger.info('migrations applied');
    },
    async ping() {
      try {
        await pool.query('select 1');
      } catch (err) {
        throw connectError(url, err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    pool: () => ({ max: pool.options.max ?? 10, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  };
}

function connectError(url: string, err: unknown): UserError {
  const reason = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code || err.name : String(err);
  const error = new UserError(`cannot reach Postgres at ${redactUrl(url)}: ${reason}`, 'is Postgres running? check DATABASE_URL');
  error.cause = err;
  return error;
}

async function openPglite(options: OpenDatabaseOptions): Promise<HubDatabase> {
  const logger = options.logger.child({ db: 'pglite' });
  const release = options.inMemory ? () => undefined : acquirePgliteLock(options.dataDir);
  let client: PGlite;
  try {
    if (options.inMemory) {
      client = await PGlite.create();
    } else {
      await ensurePgliteInitialised(options.dataDir, logger);
      client = await PGlite.create(pgliteDir(options.dataDir));
    }
  } catch (err) {
    release();
    const error = new UserError(
      `cannot open the embedded database in ${pgliteDir(options.dataDir)}: ${(err as Error).message}`,
      'check the data dir (ROADWATCH_HUB_DATA) is writable and not damaged, or set DATABASE_URL to use Postgres',
    );
    error.cause = err;
    throw error;
  }
  const db = drizzlePglite(client, { schema });
  logger.info({ dir: options.inMemory ? 'memory' : pgliteDir(options.dataDir) }, 'opened embedded PGlite database');
  let closed = false;
  return {
    db,
    kind: 'pglite',
    async migrate() {
      await migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER });
      logger.info('migrations applied');
    },
    async ping() {
      await db.execute(sql`select 1`);
    },
    pool: () => null,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        release();
      }
    },
  };
}
