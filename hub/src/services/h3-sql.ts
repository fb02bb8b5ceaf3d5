import { sql, type SQL } from 'drizzle-orm';

/**
 * The parent at `resolution` of the H3 cells in `cell` (hex text), in SQL — Postgres here has no H3
 * extension, and PGlite none at all. An H3 index is 64 bits: the resolution in bits 52–55, then one
 * 3-bit digit per resolution 1–15 from bit 44 down, unused digits all ones. The parent sets the
 * resolution and turns the digits below it into ones (what h3-js cellToParent does). `resolution`
 * must not be finer than the cells' own.
 */
export function h3ParentSql(cell: SQL, resolution: number): SQL {
  if (!Number.isInteger(resolution) || resolution < 0 || resolution > 15) throw new Error(`H3 resolution must be 0–15, got ${resolution}`);
  const index = sql`(('x' || lpad(${cell}, 16, '0'))::bit(64)::bigint)`;
  const unusedDigits = 2n ** BigInt(3 * (15 - resolution)) - 1n;
  return sql`to_hex((${index} & ~(15::bigint << 52)) | (${resolution}::bigint << 52) | ${unusedDigits.toString()}::bigint)`;
}
