import { UserError } from '@roadwatch/shared';
import type { HubConfig } from '../config/schema.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_FOLDER, openDatabase, redactUrl } from '../db/client.js';
import { pgliteDir, pgliteLockHolder } from '../db/pglite-lock.js';
import type { Logger } from '../logger.js';
import type { CliIo } from './io.js';

/** `roadwatch-hub migrate`: applies the committed migrations and exits (serve also does this at start). */
export async function migrate(config: HubConfig, io: CliIo, logger: Logger, options: { json?: boolean } = {}): Promise<number> {
  if (!config.databaseUrl) {
    const holder = pgliteLockHolder(config.dataDir);
    if (holder !== null) {
      throw new UserError(
        `the embedded database in ${pgliteDir(config.dataDir)} is open by process ${holder} (roadwatch-hub serve?)`,
        'serve applies the migrations when it starts; stop it to run migrate on its own',
      );
    }
  }
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, logger });
  try {
    await database.migrate();
  } finally {
    await database.close();
  }
  const where = config.databaseUrl ? `Postgres ${redactUrl(config.databaseUrl)}` : `the embedded database in ${pgliteDir(config.dataDir)}`;
  if (options.json) {
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const database = config.databaseUrl ? { kind: 'postgres', url: redactUrl(config.databaseUrl) } : { kind: 'embedded', dir: pgliteDir(config.dataDir) };
    io.stdout(`${JSON.stringify({ ok: true, database, migrations: journal.entries.map((e) => e.tag) })}\n`);
  } else {
    io.stdout(`Migrations applied to ${where}.\n`);
  }
  return 0;
}
