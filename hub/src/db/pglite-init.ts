import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import { PGLITE_LOCK_FILE, pgliteDir } from './pglite-lock.js';

/**
 * PGlite runs initdb when PG_VERSION is missing. A hub killed during that first initdb would leave
 * a half-made cluster that later opens as "found DB". So the cluster is made in a scratch dir and
 * moved in with PG_VERSION last: the data dir is either complete or re-initialised. Call with the lock held.
 */
export async function ensurePgliteInitialised(dataDir: string, logger: Logger): Promise<void> {
  const dir = pgliteDir(dataDir);
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  const scratch = join(dataDir, 'pglite-init.tmp');
  rmSync(scratch, { recursive: true, force: true });
  logger.info({ dir }, 'creating the embedded database (first start only, takes a few seconds)');
  const client = await PGlite.create(scratch);
  await client.close();
  for (const entry of readdirSync(dir)) {
    if (entry !== PGLITE_LOCK_FILE) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  for (const entry of readdirSync(scratch)) {
    if (entry !== 'PG_VERSION') renameSync(join(scratch, entry), join(dir, entry));
  }
  renameSync(join(scratch, 'PG_VERSION'), join(dir, 'PG_VERSION'));
  rmSync(scratch, { recursive: true, force: true });
}
