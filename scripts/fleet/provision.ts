// Bulk provisioning of simulated vehicles with real credentials, the way `roadwatch-hub devices add`
// registers one: the hub's DeviceRegistryService (scrypt-hashed secret in the hub's database) and,
// for scale-out mode, the same secret in the Mosquitto password file (`--mosquitto-passwd`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import { openDatabase, type HubDatabase } from '../../hub/src/db/client.js';
import { DeviceRegistryService } from '../../hub/src/services/devices.js';
import { setMosquittoPasswords } from '../../hub/src/cli/mosquitto-passwd.js';

export interface Credentials {
  deviceId: string;
  secret: string;
}

export interface ProvisionOptions {
  /** Postgres URL, or undefined for the PGlite database under `dataDir` (the hub must not run yet). */
  databaseUrl: string | undefined;
  dataDir: string;
  deviceIds: readonly string[];
  /** Also write every device to this Mosquitto password file (one write for the whole fleet). */
  mosquittoPasswd?: string | undefined;
  /**
   * A JSON file of secrets issued by an earlier run (mode 0600). Devices found there and in the
   * database are reused; the others get a new secret (`devices add --rotate`). Saves minutes of
   * scrypt at 5,000 vehicles; leave undefined to issue every secret anew.
   */
  cacheFile?: string | undefined;
  /** Secrets hashed at once (scrypt runs on libuv's thread pool). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Registers the vehicles and returns their credentials, in `deviceIds` order. */
export async function provisionFleet(options: ProvisionOptions): Promise<{ credentials: Credentials[]; issued: number; reused: number; seconds: number }> {
  const started = performance.now();
  const logger = pino({ level: 'warn' });
  const database: HubDatabase = await openDatabase({ databaseUrl: options.databaseUrl, dataDir: options.dataDir, logger, poolSize: 4 });
  try {
    await database.migrate();
    const registry = new DeviceRegistryService({ db: database.db, logger });
    const cached = readCache(options.cacheFile);
    const known = options.cacheFile ? await existingDevices(database) : new Set<string>();
    const secrets = new Map<string, string>();
    const toIssue: string[] = [];
    for (const id of options.deviceIds) {
      const secret = cached.get(id);
      if (secret && known.has(id)) secrets.set(id, secret);
      else toIssue.push(id);
    }
    // Someone may have issued new secrets since (another run on this database): check a sample of
    // the cached ones against the hub's hashes, and issue all anew when one is stale.
    const reused = [...secrets.keys()];
    const sample = reused.filter((_, i) => i % Math.max(1, Math.floor(reused.length / 8)) === 0);
    const stale = (await Promise.all(sample.map((id) => registry.verify(id, secrets.get(id)!)))).some((ok) => !ok);
    if (stale) {
      for (const id of reused) toIssue.push(id);
      secrets.clear();
    }
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < toIssue.length) {
        const id = toIssue[next++]!;
        // rotate: an existing row (a vehicle of an earlier run whose secret was not kept) gets a new secret.
        const { secret } = await registry.add(id, { rotate: true });
        secrets.set(id, secret);
        done += 1;
        if (done % 250 === 0) options.onProgress?.(done, toIssue.length);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    const credentials = options.deviceIds.map((deviceId) => ({ deviceId, secret: secrets.get(deviceId)! }));
    if (options.mosquittoPasswd) setMosquittoPasswords(options.mosquittoPasswd, credentials.map((c) => [c.deviceId, c.secret] as const));
    if (options.cacheFile && toIssue.length > 0) writeCache(options.cacheFile, new Map([...cached, ...secrets]));
    return { credentials, issued: toIssue.length, reused: options.deviceIds.length - toIssue.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    await database.close();
  }
}

async function existingDevices(database: HubDatabase): Promise<Set<string>> {
  const { devices } = await import('../../hub/src/db/schema.js');
  const rows = await database.db.select({ id: devices.deviceId }).from(devices);
  return new Set(rows.map((r) => r.id));
}

function readCache(file: string | undefined): Map<string, string> {
  if (!file || !existsSync(file)) return new Map();
  try {
    return new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>));
  } catch {
    return new Map();
  }
}

function writeCache(file: string, secrets: Map<string, string>): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(Object.fromEntries(secrets)), { mode: 0o600 });
}

/** `veh-00001` … : ids that sort in fleet order. */
export function fleetDeviceIds(count: number, prefix = 'sim'): string[] {
  const width = Math.max(5, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}
