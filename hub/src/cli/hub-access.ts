import { UserError } from '@roadwatch/shared';
import { readAdminFile } from '../api/admin/admin-file.js';
import type { HubConfig } from '../config/schema.js';
import { openDatabase, redactUrl } from '../db/client.js';
import { pgliteDir, pgliteLockHolder } from '../db/pglite-lock.js';
import type { Logger } from '../logger.js';
import { createServices } from '../services/index.js';
import type { DeviceRegistry } from '../services/ports.js';
import type { TokenAdmin } from '../services/tokens.js';
import { AdminClient } from './admin-client.js';

/** What the operator commands (`devices`, `tokens`) work on, wherever it lives. */
export interface HubAccess {
  devices: Pick<DeviceRegistry, 'add' | 'list'>;
  tokens: TokenAdmin;
  /** How the devices are reached, for messages. */
  via: string;
  close(): Promise<void>;
}

/**
 * Reaches the device registry and the API tokens the way that works right now:
 * 1. DATABASE_URL set → Postgres directly (any number of processes may use it);
 * 2. a running `serve` published admin.json and answers → its admin API (it holds the embedded database;
 *    while a hub that holds it is still starting, wait up to `waitForHubMs` for its admin.json);
 * 3. otherwise → the embedded PGlite database directly.
 */
export async function openHubAccess(config: HubConfig, logger: Logger, { waitForHubMs = 15_000 } = {}): Promise<HubAccess> {
  if (config.databaseUrl) {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 2, logger });
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
    const services = createServices({ database, logger });
    return { devices: services.devices, tokens: services.tokens, via: `Postgres ${redactUrl(config.databaseUrl)}`, close: () => database.close() };
  }
  // A live process holding the database without a reachable admin API is a hub still starting
  // (migrations, broker): wait for it to publish admin.json rather than fail at once.
  const deadline = Date.now() + waitForHubMs;
  for (;;) {
    const admin = readAdminFile(config.dataDir);
    if (admin) {
      const client = new AdminClient(admin);
      if (await client.answers()) return { devices: client, tokens: client.tokens, via: `the running hub at ${admin.url}`, close: async () => undefined };
      logger.debug({ url: admin.url }, 'admin.json is stale or its hub does not answer yet');
    }
    const holder = pgliteLockHolder(config.dataDir);
    if (holder === null) break;
    if (Date.now() >= deadline) {
      throw new UserError(
        `the embedded database in ${pgliteDir(config.dataDir)} is open by process ${holder}, but no running hub answers through ${config.dataDir}/admin.json`,
        'wait until roadwatch-hub serve has started (or stop it) and retry; run this command as the hub’s user so it can read admin.json',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const database = await openDatabase({ dataDir: config.dataDir, logger });
  try {
    await database.migrate();
  } catch (error) {
    await database.close();
    throw error;
  }
  const services = createServices({ database, logger });
  return { devices: services.devices, tokens: services.tokens, via: `the embedded database in ${pgliteDir(config.dataDir)}`, close: () => database.close() };
}
