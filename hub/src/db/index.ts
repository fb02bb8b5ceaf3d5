export { openDatabase, redactUrl, MIGRATIONS_FOLDER, type Db, type HubDatabase, type HubSchema, type OpenDatabaseOptions } from './client.js';
export { isPgliteLocked, pgliteLockHolder, pgliteDir } from './pglite-lock.js';
export * as schema from './schema.js';
