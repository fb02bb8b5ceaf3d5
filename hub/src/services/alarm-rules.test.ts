import type { RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmsConfigSchema } from '../config/schema.js';
import { openDatabase, type HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger, type TestHubDatabase } from '../db/testing/databases.js';
import type { Alarm } from './alarm-types.js';
import { cellOf } from './geo.js';
import { createServices, type Services } from './index.js';
import { StatusService } from './status.js';
import { batchPayload, makeEvent } from './testing/fixtures.js';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const CONFIG = AlarmsConfigSchema.parse({ hotspot: { minEvents: 5, minDevices: 2, days: 7 }, offlineAfterS: 900, sensorFaultAfterS: 300 });
const P = { lat: 52.37021, lon: 4.89517 };

describe.each(testDatabases())('alarm rules on $name', ({ name, open }) => {
  let database: TestHubDatabase;
  let services: Services;
  let now: Date;
  const at = (s: number) => (now = new Date(T0 + s * 1000));

  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate detections, quarantine, alarms, devices, device_status, agg_hourly_device, agg_hourly_cell restart identity`);
    await database.db.execute(sql`insert into devices (device_id, secret_hash) values ('veh-1', 'x'), ('veh-2', 'x'), ('veh-3', 'x')`);
    at(0);
    services = createServices({ database, logger: testLogger(), clock: () => now, config: { aggregates: { h3Resolution: 9 }, alarms: CONFIG }, hotspotDelayMs: 0 });
  });

  const ingest = async (deviceId: string, events: RoadEvent[]) => {
    const out = await services.ingest.ingest(deviceId, batchPayload(deviceId, events), 'mqtt');
    await services.alarmRules.idle();
    return out;
  };
  const status = (deviceId: string, payload: object) => services.status.record(deviceId, JSON.stringify({ v: 1, state: 'online', ...payload }));
  const all = async (): Promise<Alarm[]> => (await services.alarms.list({ limit: 1000 })).items.reverse();
  const open_ = async (type: Alarm['type']) => (await services.alarms.list({ type, status: ['active_unack', 'active_ack'] })).items;
  const table = () => execRows(database.db, sql`select * from alarms order by id`);

  it('severe damage: one alarm per res-12 cell, raised in the ingest statement for inserted events only', async () => {
    const pothole = makeEvent({ class: 'D40', confidence: 0.9, ts: new Date(T0 - 60_000).toISOString(), ...P });
    await ingest('veh-1', [pothole]);
    let [alarm, ...rest] = await open_('severe_damage');
    expect(rest).toEqual([]);
    expect(alarm).toMatchObject({ source: cellOf(P.lat, P.lon, 12), deviceId: 'veh-1', severity: 'critical', count: 1, status: 'active_unack' });
    expect(alarm!.details).toMatchObject({ eventId: pothole.eventId, class: 'D40', confidence: 0.9, resolution: 12 });
    expect(alarm!.message).toContain('D40 (confidence 0.9)');

    await ingest('veh-1', [pothole]); // a resend: a duplicate never fires
    expect((await open_('severe_damage'))[0]!.count).toBe(1);

    const again = makeEvent({ class: 'D40', confidence: 0.7, ...P, lat: P.lat + 0.00001 });
    await ingest('veh-2', [again, again]);
    [alarm, ...rest] = await open_('severe_damage');
    expect(rest).toEqual([]);
    // The vehicle that opened it stays the alarm's device (a re-fire is a HOT update); the details name the last one.
    expect(alarm).toMatchObject({ count: 2, deviceId: 'veh-1', details: { eventId: again.eventId, deviceId: 'veh-2' } });

    const elsewhere = { lat: 52.38, lon: 4.9 };
    await ingest('veh-1', [makeEvent({ class: 'D40', confidence: 0.3, ...elsewhere }), makeEvent({ class: 'D00', confidence: 0.99, ...elsewhere })]);
    expect(await open_('severe_damage')).toHaveLength(1);

    const twin = { lat: 52.39, lon: 4.91 };
    await ingest('veh-3', [makeEvent({ class: 'D40', confidence: 0.8, ...twin }), makeEvent({ class: 'D40', confidence: 0.95, ...twin })]);
    expect((await open_('severe_damage')).find((a) => a.source === cellOf(twin.lat, twin.lon, 12))).toMatchObject({ count: 2 });
  });

  it('hotspot: ≥ 5 events from ≥ 2 vehicles in one cell within 7 days; raised after ingest, refreshed and cleared by the timer', async () => {
    const cell = cellOf(P.lat, P.lon, 9);
    const inCell = (n: number) => Array.from({ length: n }, (_, i) => makeEvent({ ...P, lon: P.lon + i * 0.00001, ts: new Date(T0 - i * 3_600_000).toISOString() }));
    await ingest('veh-1', inCell(5));
    expect(await open_('hotspot')).toEqual([]); // one vehicle only
    await ingest('veh-2', [makeEvent({ ...P, ts: new Date(T0 - 10 * 86_400_000).toISOString() })]);
    expect(await open_('hotspot')).toEqual([]); // the second vehicle's event is outside the window
    await ingest('veh-2', inCell(1));
    const [hot] = await open_('hotspot');
    expect(hot).toMatchObject({ source: cell, deviceId: null, severity: 'major', count: 1, details: { cell, resolution: 9, events: 6, devices: 2, days: 7 } });

    await services.alarmRules.evaluateAll();
    expect((await open_('hotspot'))[0]).toEqual(hot); // nothing new: unchanged
    await ingest('veh-3', inCell(1));
    expect((await open_('hotspot'))[0]).toEqual(hot); // an open hotspot is not rewritten on every batch…
    await services.alarmRules.evaluateAll();
    expect((await open_('hotspot'))[0]).toMatchObject({ id: hot!.id, count: 2, details: { events: 7, devices: 3 } }); // …the timer refreshes it

    at(8 * 86_400);
    await services.alarmRules.evaluateAll();
    expect(await open_('hotspot')).toEqual([]);
    expect(await services.alarms.get(hot!.id)).toMatchObject({ status: 'cleared', clearedBy: 'system:rules' });
  });

  it('hotspot checks wait out the coalescing window, and flush runs them at once', async () => {
    const slow = createServices({ database, logger: testLogger(), clock: () => now, config: { aggregates: { h3Resolution: 9 }, alarms: CONFIG }, hotspotDelayMs: 60_000 });
    const inCell = (n: number) => Array.from({ length: n }, (_, i) => makeEvent({ ...P, lon: P.lon + i * 0.00001, ts: new Date(T0 - i * 3_600_000).toISOString() }));
    await slow.ingest.ingest('veh-1', batchPayload('veh-1', inCell(4)), 'mqtt');
    await slow.ingest.ingest('veh-2', batchPayload('veh-2', inCell(2)), 'mqtt');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await open_('hotspot')).toEqual([]); // queued, inside the 60 s window
    await slow.alarmRules.flush(); // within the test's timeout, far inside the window
    expect(await open_('hotspot')).toMatchObject([{ source: cellOf(P.lat, P.lon, 9), details: { events: 6, devices: 2 } }]);
  });

  it('device offline: the last will raises at once, the device coming back clears', async () => {
    await status('veh-1', {});
    expect(await open_('device_offline')).toEqual([]);
    at(10);
    await services.status.record('veh-1', '{"v":1,"state":"offline"}');
    const [alarm] = await open_('device_offline');
    expect(alarm).toMatchObject({ source: 'veh-1', deviceId: 'veh-1', severity: 'warning', details: { reason: 'disconnected', since: '2026-11-22T12:00:10.000Z' } });
    at(20);
    await status('veh-1', {});
    expect(await open_('device_offline')).toEqual([]);
    expect(await services.alarms.get(alarm!.id)).toMatchObject({ status: 'cleared', clearedBy: 'system:rules' });
  });

  it('device offline: no status and no events for offlineAfterS raises on the timer; events clear it', async () => {
    await ingest('veh-2', [makeEvent()]);
    at(900);
    await services.alarmRules.evaluateAll();
    expect(await open_('device_offline')).toEqual([]);
    at(901);
    await services.alarmRules.evaluateAll();
    const [alarm, ...rest] = await open_('device_offline');
    expect(rest).toEqual([]); // veh-1 and veh-3 never connected: nothing to say about them
    expect(alarm).toMatchObject({ source: 'veh-2', details: { reason: 'silent', since: '2026-11-22T12:00:00.000Z' } });
    at(1000);
    await ingest('veh-2', [makeEvent()]);
    await services.alarmRules.evaluateAll();
    expect(await open_('device_offline')).toEqual([]);
  });

  it('does not declare devices offline for the time the hub itself was down', async () => {
    await database.db.execute(sql`update devices set last_seen_at = ${new Date(T0 - 86_400_000).toISOString()}::timestamptz where device_id = 'veh-1'`);
    await services.alarmRules.evaluateAll();
    expect(await open_('device_offline')).toEqual([]);
    at(901);
    await services.alarmRules.evaluateAll();
    expect((await open_('device_offline')).map((a) => a.source)).toEqual(['veh-1']);
  });

  it('outbox backlog from the status: raised over a threshold, re-fired with new figures, cleared when it recovers', async () => {
    await status('veh-1', { queueDepth: 20_000, oldestUnsyncedAgeS: 60 });
    const [alarm] = await open_('outbox_backlog');
    expect(alarm).toMatchObject({ source: 'veh-1', severity: 'minor', count: 1, details: { queueDepth: 20_000 } });
    expect(alarm!.message).toContain('20000 events waiting (limit 10000)');
    await status('veh-1', { queueDepth: 5, oldestUnsyncedAgeS: 90_000 });
    expect((await open_('outbox_backlog'))[0]).toMatchObject({ id: alarm!.id, count: 2, message: expect.stringContaining('oldest unsynced event 90000 s old') });
    await services.status.record('veh-1', '{"v":1,"state":"offline"}'); // the will says nothing about the queue
    expect(await open_('outbox_backlog')).toHaveLength(1);
    await status('veh-1', { queueDepth: 5, oldestUnsyncedAgeS: 10 });
    expect(await open_('outbox_backlog')).toEqual([]);
  });

  it('sensor fault: a sensor in fault for longer than sensorFaultAfterS, with the status fault lines; cleared when ok', async () => {
    const faulty = { sensors: { camera: 'fault', gps: 'ok' }, faults: ['camera: /dev/video0: No such file or directory — check the cable', 'gps: no fix'] };
    await status('veh-1', faulty);
    at(200);
    await status('veh-1', faulty);
    expect(await open_('sensor_fault')).toEqual([]);
    at(301);
    await services.alarmRules.evaluateAll(); // the timer notices without a new status
    const [alarm] = await open_('sensor_fault');
    expect(alarm).toMatchObject({ source: 'veh-1/camera', deviceId: 'veh-1', severity: 'major', details: { sensor: 'camera', since: '2026-11-22T12:00:00.000Z' } });
    expect(alarm!.message).toBe('veh-1 camera fault since 2026-11-22T12:00:00.000Z: camera: /dev/video0: No such file or directory — check the cable');
    at(330);
    await status('veh-1', faulty);
    expect((await open_('sensor_fault'))[0]).toEqual(alarm); // same fault, same alarm, unchanged
    await status('veh-1', { sensors: { camera: 'degraded', gps: 'ok' } });
    expect(await open_('sensor_fault')).toHaveLength(1); // not ok yet
    await status('veh-1', { sensors: { camera: 'ok', gps: 'ok' } });
    expect(await open_('sensor_fault')).toEqual([]);
    // A new fault starts its own clock.
    at(400);
    await status('veh-1', faulty);
    at(650);
    await status('veh-1', faulty);
    expect(await open_('sensor_fault')).toEqual([]);
  });

  it('a status that can change no alarm skips the device rules; any that might runs them', async () => {
    const outcomes: string[] = [];
    const recorder = new StatusService({ db: database.db, logger: testLogger(), clock: () => now, afterRecord: async (r) => outcomes.push(await services.alarmRules.afterStatus(r)) });
    const send = async (payload: object) => {
      await recorder.record('veh-1', JSON.stringify({ v: 1, state: 'online', ...payload }));
      return outcomes.at(-1);
    };
    const healthy = { queueDepth: 3, oldestUnsyncedAgeS: 2, sensors: { camera: 'ok', gps: 'ok' } };
    expect(await send(healthy)).toBe('skipped');
    expect(await send({ queueDepth: 20_000 })).toBe('evaluated'); // over the threshold: raises
    expect(await open_('outbox_backlog')).toHaveLength(1);
    expect(await send(healthy)).toBe('evaluated'); // an alarm is open: the healthy status clears it
    expect(await open_('outbox_backlog')).toEqual([]);
    expect(await send(healthy)).toBe('skipped');
    // A fault not yet old enough raises nothing; once it is, the status raises.
    expect(await send({ sensors: { camera: 'fault' } })).toBe('skipped');
    at(301);
    expect(await send({ sensors: { camera: 'fault' } })).toBe('evaluated');
    expect(await open_('sensor_fault')).toHaveLength(1);
    expect(await send(healthy)).toBe('evaluated');
    expect(await open_('sensor_fault')).toEqual([]);
    // An alarm another replica (or the timer) opened is seen by the status statement itself.
    await services.alarms.raise({ type: 'device_offline', source: 'veh-1', deviceId: 'veh-1', severity: 'warning', message: 'veh-1 went offline' });
    expect(await send(healthy)).toBe('evaluated');
    expect(await open_('device_offline')).toEqual([]);
    // The last will always runs the rules.
    await recorder.record('veh-1', '{"v":1,"state":"offline"}');
    expect(outcomes.at(-1)).toBe('evaluated');
    expect(await open_('device_offline')).toHaveLength(1);
  });

  it('the timer is idempotent: running it twice changes nothing', async () => {
    await ingest('veh-1', Array.from({ length: 3 }, () => makeEvent({ ...P, class: 'D40' })));
    await ingest('veh-2', Array.from({ length: 3 }, () => makeEvent({ ...P })));
    await status('veh-1', { queueDepth: 50_000, sensors: { camera: 'fault' }, faults: ['camera: gone'] });
    await services.status.record('veh-2', '{"v":1,"state":"offline"}');
    at(2000);
    await services.alarmRules.evaluateAll();
    const first = await table();
    expect(new Set((await all()).map((a) => a.type))).toEqual(new Set(['severe_damage', 'hotspot', 'device_offline', 'outbox_backlog', 'sensor_fault']));
    at(2060);
    await services.alarmRules.evaluateAll();
    await services.alarmRules.evaluateAll();
    expect(await table()).toEqual(first);
  });

  it.runIf(name === 'postgres')('concurrent ingest of one hotspot from several hub replicas opens exactly one alarm', async () => {
    const replicas: HubDatabase[] = [];
    try {
      const replicaServices: Services[] = [];
      for (let i = 0; i < 4; i++) {
        const replica = await openDatabase({ databaseUrl: database.url!, dataDir: 'unused', poolSize: 3, logger: testLogger() });
        replicas.push(replica);
        replicaServices.push(createServices({ database: replica, logger: testLogger(), clock: () => now, config: { aggregates: { h3Resolution: 9 }, alarms: { ...CONFIG, hotspot: { minEvents: 2, minDevices: 2, days: 7 } } } }));
      }
      const devices = Array.from({ length: 8 }, (_, i) => `veh-c${i}`);
      await database.db.execute(sql`insert into devices (device_id, secret_hash) select d, 'x' from unnest(${`{${devices.join(',')}}`}::text[]) d`);
      // 8 devices × 3 batches, spread over the replicas, all at once: every batch puts the cell over the thresholds.
      await Promise.all(
        devices.flatMap((deviceId, d) =>
          [0, 1, 2].map((b) => {
            const s = replicaServices[(d + b) % replicaServices.length]!;
            const events = Array.from({ length: 4 }, () => makeEvent({ ...P, class: 'D40', confidence: 0.9, ts: new Date(T0 - 60_000).toISOString() }));
            return s.ingest.ingest(deviceId, batchPayload(deviceId, events), 'mqtt');
          }),
        ),
      );
      await Promise.all(replicaServices.map((s) => s.alarmRules.idle()));
      await Promise.all(replicaServices.map((s) => s.alarmRules.evaluateHotspots([cellOf(P.lat, P.lon, 9)])));
      const rows = await execRows<{ type: string; n: number; open: number; count: number }>(
        database.db,
        sql`select type, count(*)::int as n, count(*) filter (where status <> 'cleared')::int as open, max(count)::int as count from alarms group by type order by type`,
      );
      expect(rows).toEqual([
        { type: 'hotspot', n: 1, open: 1, count: expect.any(Number) },
        { type: 'severe_damage', n: 1, open: 1, count: 8 * 3 * 4 }, // every event counted once, on one alarm
      ]);
      expect((await open_('hotspot'))[0]!.details).toMatchObject({ events: 96, devices: 8 });
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  });
});
