import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';

/** Runs raw SQL and returns its rows; pg's QueryResult and PGlite's Results both carry `rows`. */
export async function execRows<T extends Record<string, unknown>>(db: Pick<Db, 'execute'>, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

const dialect = new PgDialect();

/**
 * execRows as a named prepared statement: on Postgres each pooled connection parses (and, once its
 * plan is generic, plans) the text once and afterwards gets only the parameters — for the hot,
 * long ingest statement that is most of its fixed cost. The name carries a hash of the text, so the
 * few shapes a builder produces (severe alarms or not, …) are each their own statement. PGlite, one
 * in-process connection, runs the query as execRows would.
 */
export async function execPrepared<T extends Record<string, unknown>>(db: Db, name: string, query: SQL): Promise<T[]> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const hashed = `${name}_${createHash('sha1').update(text).digest('base64url').slice(0, 12)}`;
  const result = (await db._.session.prepareQuery({ sql: text, params }, undefined, hashed, false).execute()) as { rows: T[] };
  return result.rows;
}

/** SQLSTATEs worth retrying a whole statement for: deadlock and serialization failure. */
export function isRetryableTxError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code ?? (err as { cause?: { code?: unknown } } | null)?.cause?.code;
  return code === '40P01' || code === '40001';
}
