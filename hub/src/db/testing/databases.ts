import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { openDatabase, redactUrl, type HubDatabase } from '../client.js';

export interface TestDatabase {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated, empty database; close() drops it (postgres). */
  open(options?: { migrate?: boolean }): Promise<TestHubDatabase>;
}

/** `url` (Postgres only) lets a test open more pools on the same database, like several hub replicas. */
export type TestHubDatabase = HubDatabase & { url?: string };

export const TEST_DATABASE_ENV = 'ROADWATCH_TEST_DATABASE_URL';

export function testLogger(): Logger {
  return pino({ level: process.env.ROADWATCH_TEST_LOG_LEVEL ?? 'silent' });
}

/**
 * Every implementation a contract test runs on: PGlite (in memory) always, real Postgres when
 * ROADWATCH_TEST_DATABASE_URL is set. In CI a missing Postgres is a failure, not a skip.
 */
export function testDatabases(): TestDatabase[] {
  const url = process.env[TEST_DATABASE_ENV];
  const list: TestDatabase[] = [{ name: 'pglite', open: (o) => openPgliteTest(o) }];
  if (url) {
    list.push({ name: 'postgres', open: (o) => openPostgresTest(url, o) });
  } else if (process.env.CI === 'true') {
    throw new Error(`${TEST_DATABASE_ENV} is not set but CI=true: the Postgres-backed tests must run in CI — start Postgres and export ${TEST_DATABASE_ENV}=postgres://postgres@127.0.0.1:5432/postgres`);
  }
  return list;
}

async function openPgliteTest(options?: { migrate?: boolean }): Promise<HubDatabase> {
  const database = await openDatabase({ dataDir: 'unused-in-memory', inMemory: true, logger: testLogger() });
  if (options?.migrate !== false) await database.migrate();
  return database;
}

async function openPostgresTest(adminUrl: string, options?: { migrate?: boolean }): Promise<TestHubDatabase> {
  const name = `rw_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
    await admin.query(`create database ${name}`);
  } catch (err) {
    throw new Error(`cannot create a test database on ${redactUrl(adminUrl)} (${TEST_DATABASE_ENV}): ${(err as Error).message} — is Postgres running?`, { cause: err });
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'unused', poolSize: 20, logger: testLogger() });
  if (options?.migrate !== false) await database.migrate();
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}
