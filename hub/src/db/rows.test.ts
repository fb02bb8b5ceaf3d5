import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Db } from './client.js';
import { execPrepared, execRows } from './rows.js';
import * as schema from './schema.js';
import { testDatabases } from './testing/databases.js';

describe.each(testDatabases())('execPrepared on $name', ({ name, open }) => {
  it('returns what execRows returns, for each shape under one name, and survives a failed execution', async () => {
    const database = await open({ migrate: false });
    try {
      const twice = (n: number) => sql`select ${n}::int * 2 as v`;
      const plusOne = (n: number) => sql`select ${n}::int + 1 as v`;
      for (let n = 0; n < 8; n++) {
        // Same name, two texts: each is its own statement, or the second would run the first's text.
        expect(await execPrepared(database.db, 'rw_test', twice(n))).toEqual(await execRows(database.db, twice(n)));
        expect(await execPrepared(database.db, 'rw_test', plusOne(n))).toEqual([{ v: n + 1 }]);
      }
      const divide = (n: number) => sql`select 10 / ${n}::int as v`;
      await expect(execPrepared(database.db, 'rw_test', divide(0))).rejects.toMatchObject({ cause: { code: '22012' } });
      expect(await execPrepared(database.db, 'rw_test', divide(5))).toEqual([{ v: 2 }]);
    } finally {
      await database.close();
    }
  });

  it.runIf(name === 'postgres')('prepares each shape once per connection', async () => {
    const database = await open({ migrate: false });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const db = drizzle(client, { schema }) as unknown as Db;
      for (let n = 0; n < 3; n++) {
        await execPrepared(db, 'rw_test', sql`select ${n}::int as v`);
        await execPrepared(db, 'rw_test', sql`select ${n}::int as v, 1 as w`);
      }
      const prepared = await execRows<{ name: string; statement: string }>(db, sql`select name, statement from pg_prepared_statements order by statement`);
      expect(prepared.map((p) => p.statement)).toEqual(['select $1::int as v', 'select $1::int as v, 1 as w']);
      expect(prepared.every((p) => p.name.startsWith('rw_test_'))).toBe(true);
    } finally {
      await client.end();
      await database.close();
    }
  });
});
