import type Database from 'better-sqlite3';
import { UserError } from '@roadwatch/shared';

/**
 * Schema steps, in order. Step i brings the database to `PRAGMA user_version = i + 1`.
 * Never edit a step that has shipped: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- AUTOINCREMENT so a seq is never handed out twice, even after every row was settled or evicted.
  CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    payload    TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  -- One row of running totals, updated in the same transaction as every append, settle and
  -- eviction, so caps and stats never scan the events table and stay right when another
  -- process (roadwatch replay) appends.
  CREATE TABLE meta (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    depth         INTEGER NOT NULL DEFAULT 0,
    total_bytes   INTEGER NOT NULL DEFAULT 0,
    last_ack_at   INTEGER,
    evicted_total INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO meta (id) VALUES (1);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database up to SCHEMA_VERSION. Pending steps run in one IMMEDIATE transaction, and the
 * version is read again once the write lock is held, so two processes opening the same new file at
 * once migrate it exactly once. A file from a newer roadwatch is refused, never downgraded.
 */
export function migrate(db: Database.Database, path: string): { from: number; to: number } {
  const from = checkVersion(db, path);
  if (from === SCHEMA_VERSION) return { from, to: from };
  db.transaction(() => {
    const current = checkVersion(db, path);
    for (let version = current; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
  return { from, to: SCHEMA_VERSION };
}

function checkVersion(db: Database.Database, path: string): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new UserError(
      `outbox ${path} has schema version ${version}, but this roadwatch knows versions up to ${SCHEMA_VERSION} (the file was written by a newer roadwatch)`,
      'install that newer roadwatch again, or move the file away to start an empty outbox (its unsent events stay in the moved file)',
    );
  }
  return version;
}
