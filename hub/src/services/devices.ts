import { timingSafeEqual } from 'node:crypto';
import { DeviceIdSchema, UserError } from '@roadwatch/shared';
import { asc, eq, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { devices, deviceStatus } from '../db/schema.js';
import type { DeviceCredentials, DeviceRegistry, DeviceSummary } from './ports.js';
import { hashSecret, newSecret, sha256, verifySecret } from './secrets.js';

export interface DeviceRegistryDeps {
  db: Db;
  logger: Logger;
  clock?: () => Date;
  /** Most verified secrets remembered (see VerifiedCache). */
  cacheSize?: number;
}

/**
 * After a hub restart or a network blip the whole fleet reconnects at once; paying ~50 ms of
 * scrypt per device would stall the broker for minutes. A successful verification is remembered
 * as sha256(secret) next to the stored hash it was checked against: a repeat costs one indexed
 * lookup and a hash. Keyed on the stored hash, an entry dies by itself when the secret is rotated,
 * even by another hub replica; a wrong secret never evicts a good entry. Only digests of secrets
 * that already passed scrypt are kept, in memory, never on disk.
 */
class VerifiedCache {
  private readonly entries = new Map<string, { storedHash: string; digest: Buffer }>();
  constructor(private readonly max: number) {}

  matches(deviceId: string, storedHash: string, secret: string): boolean {
    const entry = this.entries.get(deviceId);
    return !!entry && entry.storedHash === storedHash && timingSafeEqual(entry.digest, sha256(secret));
  }

  remember(deviceId: string, storedHash: string, secret: string): void {
    this.entries.delete(deviceId);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(deviceId, { storedHash, digest: sha256(secret) });
  }

  forget(deviceId: string): void {
    this.entries.delete(deviceId);
  }
}

export class DeviceRegistryService implements DeviceRegistry {
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly cache: VerifiedCache;

  constructor(deps: DeviceRegistryDeps) {
    this.db = deps.db;
    this.logger = deps.logger.child({ svc: 'devices' });
    this.clock = deps.clock ?? (() => new Date());
    this.cache = new VerifiedCache(deps.cacheSize ?? 100_000);
  }

  async add(deviceId: string, options: { rotate?: boolean } = {}): Promise<DeviceCredentials> {
    const parsed = DeviceIdSchema.safeParse(deviceId);
    if (!parsed.success) {
      throw new UserError(`invalid device id "${deviceId}"`, parsed.error.issues[0]?.message ?? 'see the protocol docs');
    }
    const secret = newSecret();
    const secretHash = await hashSecret(secret);
    const now = this.clock();
    if (options.rotate) {
      await this.db
        .insert(devices)
        .values({ deviceId, secretHash, createdAt: now })
        .onConflictDoUpdate({ target: devices.deviceId, set: { secretHash } });
      this.cache.forget(deviceId);
      this.logger.info({ deviceId }, 'device secret issued (rotate)');
    } else {
      const inserted = await this.db
        .insert(devices)
        .values({ deviceId, secretHash, createdAt: now })
        .onConflictDoNothing({ target: devices.deviceId })
        .returning({ deviceId: devices.deviceId });
      if (inserted.length === 0) {
        throw new UserError(`device ${deviceId} already exists`, 'use --rotate to issue a new secret');
      }
      this.logger.info({ deviceId }, 'device added');
    }
    return { deviceId, secret };
  }

  async verify(deviceId: string, secret: string): Promise<boolean> {
    if (!DeviceIdSchema.safeParse(deviceId).success || !secret) return false;
    const [row] = await this.db
      .select({ secretHash: devices.secretHash })
      .from(devices)
      .where(eq(devices.deviceId, deviceId));
    if (!row) return false;
    if (this.cache.matches(deviceId, row.secretHash, secret)) return true;
    const ok = await verifySecret(secret, row.secretHash);
    if (ok) this.cache.remember(deviceId, row.secretHash, secret);
    return ok;
  }

  async list(): Promise<DeviceSummary[]> {
    const rows = await this.summaryQuery().orderBy(asc(devices.deviceId));
    return rows.map(toSummary);
  }

  async get(deviceId: string): Promise<DeviceSummary | null> {
    const [row] = await this.summaryQuery().where(eq(devices.deviceId, deviceId));
    return row ? toSummary(row) : null;
  }

  private summaryQuery() {
    return this.db
      .select({
        deviceId: devices.deviceId,
        createdAt: devices.createdAt,
        lastSeenAt: devices.lastSeenAt,
        state: sql<string | null>`${deviceStatus.state}`,
      })
      .from(devices)
      .leftJoin(deviceStatus, eq(deviceStatus.deviceId, devices.deviceId))
      .$dynamic();
  }
}

function toSummary(row: { deviceId: string; createdAt: Date; lastSeenAt: Date | null; state: string | null }): DeviceSummary {
  return {
    deviceId: row.deviceId,
    createdAt: row.createdAt.toISOString(),
    lastSeenAt: row.lastSeenAt ? row.lastSeenAt.toISOString() : null,
    state: row.state === 'online' || row.state === 'offline' ? row.state : 'unknown',
  };
}
