import pg from 'pg';

/**
 * A fresh Postgres database for one test file when ROADWATCH_TEST_DATABASE_URL is set (always in CI),
 * else undefined: the hub then runs on embedded PGlite. In CI a missing server fails the run.
 */
export async function createE2eDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const admin = process.env.ROADWATCH_TEST_DATABASE_URL;
  if (!admin) {
    if (process.env.CI === 'true') throw new Error('CI=true but ROADWATCH_TEST_DATABASE_URL is not set: the end-to-end tests must run against real Postgres');
    return { url: undefined, drop: async () => {} };
  }
  const name = `rw_e2e_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
