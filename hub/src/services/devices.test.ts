import { UserError } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { DeviceRegistryService } from './devices.js';
import { StatusService } from './status.js';

describe.each(testDatabases())('DeviceRegistryService on $name', ({ open }) => {
  let database: HubDatabase;
  let devices: DeviceRegistryService;

  beforeAll(async () => {
    database = await open();
    devices = new DeviceRegistryService({ db: database.db, logger: testLogger() });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('adds a device with a 32-byte secret stored only as an scrypt hash', async () => {
    const creds = await devices.add('veh-1');
    expect(creds.deviceId).toBe('veh-1');
    expect(Buffer.from(creds.secret, 'base64url')).toHaveLength(32);
    const [row] = await execRows<{ secret_hash: string }>(database.db, sql`select secret_hash from devices where device_id = 'veh-1'`);
    expect(row!.secret_hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(row!.secret_hash).not.toContain(creds.secret);
    expect(await devices.verify('veh-1', creds.secret)).toBe(true);
    // second time from the cache, same answer
    expect(await devices.verify('veh-1', creds.secret)).toBe(true);
  });

  it('refuses a wrong secret, an unknown device and a malformed id', async () => {
    const creds = await devices.add('veh-2');
    expect(await devices.verify('veh-2', `${creds.secret}x`)).toBe(false);
    expect(await devices.verify('veh-2', '')).toBe(false);
    expect(await devices.verify('veh-404', creds.secret)).toBe(false);
    expect(await devices.verify('veh/2', creds.secret)).toBe(false);
    expect(await devices.verify('veh-2', creds.secret)).toBe(true);
  });

  it('refuses to add an existing device without rotate, and says how', async () => {
    await devices.add('veh-3');
    const err = await devices.add('veh-3').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe('device veh-3 already exists — use --rotate to issue a new secret');
    await expect(devices.add('bad id!')).rejects.toThrow(/invalid device id "bad id!"/);
  });

  it('rotate issues a new secret and the old one stops working at once, even when cached', async () => {
    const first = await devices.add('veh-4');
    expect(await devices.verify('veh-4', first.secret)).toBe(true);
    const second = await devices.add('veh-4', { rotate: true });
    expect(second.secret).not.toBe(first.secret);
    expect(await devices.verify('veh-4', first.secret)).toBe(false);
    expect(await devices.verify('veh-4', second.secret)).toBe(true);

    // A rotation by another hub replica (another service instance) also invalidates this cache.
    const other = new DeviceRegistryService({ db: database.db, logger: testLogger() });
    const third = await other.add('veh-4', { rotate: true });
    expect(await devices.verify('veh-4', second.secret)).toBe(false);
    expect(await devices.verify('veh-4', third.secret)).toBe(true);
  });

  it('rotate of an unknown device creates it', async () => {
    const creds = await devices.add('veh-5', { rotate: true });
    expect(await devices.verify('veh-5', creds.secret)).toBe(true);
  });

  it('lists devices with their last status', async () => {
    await new StatusService({ db: database.db, logger: testLogger() }).record('veh-1', '{"v":1,"state":"online","queueDepth":3}');
    const list = await devices.list();
    expect(list.map((d) => d.deviceId)).toEqual(['veh-1', 'veh-2', 'veh-3', 'veh-4', 'veh-5']);
    expect(list[0]).toMatchObject({ deviceId: 'veh-1', state: 'online', createdAt: expect.stringMatching(/Z$/) });
    expect(list[1]!.state).toBe('unknown');
    expect(await devices.get('veh-1')).toMatchObject({ state: 'online' });
    expect(await devices.get('nope')).toBeNull();
  });
});
