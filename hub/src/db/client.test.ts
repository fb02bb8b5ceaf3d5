import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER, openDatabase } from './client.js';
import { isPgliteLocked, pgliteLockHolder } from './pglite-lock.js';
import { execRows } from './rows.js';
import { testDatabases, testLogger } from './testing/databases.js';

/** Entries in drizzle/meta/_journal.json: every committed migration. */
const MIGRATIONS = (JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] }).entries.length;

describe.each(testDatabases())('HubDatabase on $name', ({ name, open }) => {
  it('migrates an empty database, and migrating again changes nothing', async () => {
    const database = await open({ migrate: false });
    try {
      expect(database.kind).toBe(name);
      await database.migrate();
      await database.migrate();
      const tables = await execRows<{ t: string }>(
        database.db,
        sql`select table_name as t from information_schema.tables where table_schema = 'public' order by 1`,
      );
      expect(tables.map((r) => r.t)).toEqual([
        'agg_daily_cell', 'agg_device_numbers', 'agg_hourly_cell', 'agg_hourly_device', 'alarms', 'api_tokens',
        'detections', 'device_status', 'devices', 'quarantine',
      ]);
      const applied = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(applied[0]!.n).toBe(MIGRATIONS);
      await database.ping();
    } finally {
      await database.close();
    }
  });

  it.runIf(name === 'postgres')('serialises migrations from several hubs starting at once', async () => {
    const database = await open({ migrate: false });
    try {
      await Promise.all([database.migrate(), database.migrate(), database.migrate()]);
      const applied = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      expect(applied[0]!.n).toBe(MIGRATIONS);
    } finally {
      await database.close();
    }
  });
});

describe('testDatabases', () => {
  it('fails instead of skipping Postgres when CI=true and no URL is set', () => {
    const saved = { ci: process.env.CI, url: process.env.ROADWATCH_TEST_DATABASE_URL };
    try {
      process.env.CI = 'true';
      delete process.env.ROADWATCH_TEST_DATABASE_URL;
      expect(() => testDatabases()).toThrow(/ROADWATCH_TEST_DATABASE_URL is not set but CI=true/);
    } finally {
      if (saved.ci === undefined) delete process.env.CI;
      else process.env.CI = saved.ci;
      if (saved.url !== undefined) process.env.ROADWATCH_TEST_DATABASE_URL = saved.url;
    }
  });
});

describe('openDatabase errors', () => {
  it('names the URL without its password and the fix when Postgres does not answer', async () => {
    const err = await openDatabase({
      databaseUrl: 'postgres://rw:hunter2@127.0.0.1:1/roadwatch',
      dataDir: 'unused',
      logger: testLogger(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).toContain('postgres://rw:***@127.0.0.1:1/roadwatch');
    expect(message).not.toContain('hunter2');
    expect(message).toContain('is Postgres running? check DATABASE_URL');
  });
});

describe('embedded PGlite on disk', () => {
  const dirs: string[] = [];
  const tempDataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-pglite-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps data across reopen, and lets only one opener in at a time', async () => {
    const dataDir = tempDataDir();
    const first = await openDatabase({ dataDir, logger: testLogger() });
    await first.migrate();
    await first.db.execute(sql`insert into devices (device_id, secret_hash) values ('veh-1', 'x')`);
    expect(isPgliteLocked(dataDir)).toBe(true);
    expect(readFileSync(join(dataDir, 'pglite', '.roadwatch.lock'), 'utf8').trim()).toBe(String(process.pid));

    const err = await openDatabase({ dataDir, logger: testLogger() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(new RegExp(`already open by process ${process.pid}`));

    await first.close();
    expect(isPgliteLocked(dataDir)).toBe(false);
    expect(existsSync(join(dataDir, 'pglite', '.roadwatch.lock'))).toBe(false);

    const second = await openDatabase({ dataDir, logger: testLogger() });
    try {
      await second.migrate();
      const rows = await execRows<{ device_id: string }>(second.db, sql`select device_id from devices`);
      expect(rows).toEqual([{ device_id: 'veh-1' }]);
    } finally {
      await second.close();
    }
  });

  it('re-initialises a data dir left half-made by a crash during the first start', async () => {
    const dataDir = tempDataDir();
    mkdirSync(join(dataDir, 'pglite', 'base'), { recursive: true });
    writeFileSync(join(dataDir, 'pglite', 'postgresql.conf'), 'garbage');
    mkdirSync(join(dataDir, 'pglite-init.tmp', 'junk'), { recursive: true });
    const database = await openDatabase({ dataDir, logger: testLogger() });
    try {
      await database.migrate();
      await database.ping();
      expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
      expect(existsSync(join(dataDir, 'pglite-init.tmp'))).toBe(false);
    } finally {
      await database.close();
    }
  });

  it('refuses while another live process holds the lock, takes over a stale one', async () => {
    const dataDir = tempDataDir();
    mkdirSync(join(dataDir, 'pglite'), { recursive: true });
    const lock = join(dataDir, 'pglite', '.roadwatch.lock');

    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, `${child.pid}\n`);
      expect(pgliteLockHolder(dataDir)).toBe(child.pid);
      await expect(openDatabase({ dataDir, logger: testLogger() })).rejects.toThrow(
        new RegExp(`already open by process ${child.pid}.*admin API`),
      );
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    // The holder died without cleaning up: its lock is stale.
    expect(isPgliteLocked(dataDir)).toBe(false);
    const database = await openDatabase({ dataDir, logger: testLogger() });
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(process.pid));
    await database.close();

    // A lock carrying our own pid that we never took (a container restarted as pid 1) is stale too.
    writeFileSync(lock, `${process.pid}\n`);
    expect(isPgliteLocked(dataDir)).toBe(false);
  });
});
