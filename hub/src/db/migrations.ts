import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_FOLDER, type Db } from './client.js';
import { execRows } from './rows.js';

export interface MigrationStatus {
  /** Migrations recorded as applied in drizzle.__drizzle_migrations. */
  applied: number;
  /** Migrations this hub build ships (hub/drizzle/meta/_journal.json). */
  expected: number;
  /** Tags of shipped migrations not applied yet (drizzle applies those newer than the last applied one). */
  pending: string[];
  /** The newest applied migration's tag, when this build knows it. */
  latest: string | null;
}

interface JournalEntry {
  tag: string;
  when: number;
}

/** The migrations this build ships, oldest first. */
export function shippedMigrations(folder = MIGRATIONS_FOLDER): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  return journal.entries.map(({ tag, when }) => ({ tag, when })).sort((a, b) => a.when - b.when);
}

/** Compares the database's migration table with the shipped journal (drizzle's own rule: by folder time). */
export async function migrationStatus(db: Pick<Db, 'execute'>, folder = MIGRATIONS_FOLDER): Promise<MigrationStatus> {
  const shipped = shippedMigrations(folder);
  const [exists] = await execRows<{ present: boolean }>(db, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as present`);
  const rows = exists?.present
    ? await execRows<{ created_at: string | number | null }>(db, sql`select created_at from drizzle.__drizzle_migrations order by created_at`)
    : [];
  const last = rows.length ? Number(rows[rows.length - 1]!.created_at) : -Infinity;
  return {
    applied: rows.length,
    expected: shipped.length,
    pending: shipped.filter((m) => m.when > last).map((m) => m.tag),
    latest: shipped.filter((m) => m.when <= last).at(-1)?.tag ?? null,
  };
}
