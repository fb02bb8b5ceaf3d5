import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { StatusService, type RecordedStatus } from './status.js';

describe.each(testDatabases())('StatusService on $name', ({ open }) => {
  let database: HubDatabase;
  let status: StatusService;
  const at = new Date('2026-11-22T08:00:00.000Z');

  beforeAll(async () => {
    database = await open();
    status = new StatusService({ db: database.db, logger: testLogger(), clock: () => at });
  });
  afterAll(async () => {
    await database?.close();
  });

  const row = async (deviceId: string) =>
    (await execRows<{ state: string; payload: unknown; updated_at: string }>(
      database.db,
      sql`select state, payload, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') as updated_at from device_status where device_id = ${deviceId}`,
    ))[0];

  it('upserts the latest status of a device', async () => {
    expect(await status.record('veh-1', '{"v":1,"state":"online","queueDepth":12,"sensors":{"gps":"ok"}}')).toBe(true);
    expect(await row('veh-1')).toEqual({
      state: 'online',
      payload: { v: 1, state: 'online', queueDepth: 12, sensors: { gps: 'ok' } },
      updated_at: '2026-11-22T08:00:00',
    });
    expect(await status.record('veh-1', new TextEncoder().encode('{"v":1,"state":"offline"}'))).toBe(true);
    expect(await row('veh-1')).toMatchObject({ state: 'offline', payload: { v: 1, state: 'offline' } });
  });

  it('hands the rules the stored status: fault clocks kept across statuses, and whether a device alarm is open', async () => {
    const seen: RecordedStatus[] = [];
    let t = new Date('2026-11-22T09:00:00.000Z');
    const recorder = new StatusService({ db: database.db, logger: testLogger(), clock: () => t, afterRecord: async (r) => void seen.push(r) });
    await recorder.record('veh-7', '{"v":1,"state":"online","sensors":{"camera":"fault","gps":"ok"}}');
    t = new Date('2026-11-22T09:00:30.000Z');
    await recorder.record('veh-7', '{"v":1,"state":"online","sensors":{"camera":"fault","gps":"fault"}}');
    expect(seen.map((r) => r.sensorFaultSince)).toEqual([
      { camera: '2026-11-22T09:00:00.000Z' },
      { camera: '2026-11-22T09:00:00.000Z', gps: '2026-11-22T09:00:30.000Z' },
    ]);
    expect(seen[1]).toMatchObject({ deviceId: 'veh-7', at: t, status: { state: 'online' }, alarmOpen: false });
    await database.db.execute(sql`insert into alarms (type, source, device_id, severity, status, message) values ('sensor_fault', 'veh-7/camera', 'veh-7', 'major', 'active_ack', 'x'), ('device_offline', 'veh-8', 'veh-8', 'warning', 'active_unack', 'y')`);
    await recorder.record('veh-7', '{"v":1,"state":"online"}');
    await recorder.record('veh-9', '{"v":1,"state":"online"}'); // another device's alarm is not this one's
    expect(seen.slice(2).map((r) => [r.deviceId, r.alarmOpen])).toEqual([['veh-7', true], ['veh-9', false]]);
  });

  it('returns false for an invalid payload and keeps the previous status', async () => {
    expect(await status.record('veh-1', 'not json')).toBe(false);
    expect(await status.record('veh-1', '{"v":1,"state":"sleeping"}')).toBe(false);
    expect(await status.record('veh-1', '{"v":1,"state":"online","agentVersion":"1\\u0000"}')).toBe(false);
    expect(await row('veh-1')).toMatchObject({ state: 'offline' });
  });
});
