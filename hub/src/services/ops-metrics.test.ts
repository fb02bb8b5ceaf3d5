import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHubDatabase } from '../db/testing/databases.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { createServices, type Services } from './index.js';
import { OPS_METRICS, registerOpsMetrics } from './ops-metrics.js';
import { batchPayload, makeEvents } from './testing/fixtures.js';

describe.each(testDatabases())('ops metrics on $name', ({ name, open }) => {
  let database: TestHubDatabase;
  let services: Services;
  let registry: Registry;
  let now = new Date();
  beforeAll(async () => {
    database = await open();
    services = createServices({ database, logger: testLogger() });
    registry = new Registry();
    registerOpsMetrics({ db: database.db, registry, logger: testLogger(), pool: () => database.pool?.() ?? null, offlineAfterS: 900, clock: () => now, cacheMs: 0 });
  });
  afterAll(async () => {
    await database?.close();
  });

  const values = async (metric: string) => (await registry.getMetricsAsJSON()).find((m) => m.name === metric)?.values ?? [];
  const value = async (metric: string, labels: Record<string, string> = {}) =>
    (await values(metric)).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);

  it('counts open alarms by type, severity and status from the database, every type present', async () => {
    expect(await value(OPS_METRICS.alarmsOpen)).toBe(0);
    expect(new Set((await values(OPS_METRICS.alarmsOpen)).map((v) => v.labels.type))).toEqual(new Set(['device_offline', 'hotspot', 'outbox_backlog', 'sensor_fault', 'severe_damage']));
    expect(new Set((await values(OPS_METRICS.alarmsOpen)).map((v) => v.labels.status))).toEqual(new Set(['active_unack', 'active_ack']));
    const a = await services.alarms.raise({ type: 'severe_damage', source: 'cell-a', severity: 'critical', message: 'D40 at a' });
    await services.alarms.raise({ type: 'severe_damage', source: 'cell-b', severity: 'critical', message: 'D40 at b' });
    await services.alarms.raise({ type: 'device_offline', source: 'veh-x', severity: 'warning', message: 'veh-x offline' });
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'severe_damage', severity: 'critical', status: 'active_unack' })).toBe(2);
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'device_offline' })).toBe(1);
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'hotspot' })).toBe(0);
    await services.alarms.ack(a.alarm.id, 'test');
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'severe_damage', status: 'active_unack' })).toBe(1);
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'severe_damage', status: 'active_ack' })).toBe(1);
    await services.alarms.clear(a.alarm.id, 'test');
    expect(await value(OPS_METRICS.alarmsOpen, { type: 'severe_damage' })).toBe(1);
    expect(await value(OPS_METRICS.dbUp)).toBe(1);
  });

  it('counts devices registered and online (events or an online status within offlineAfterS, no last will since)', async () => {
    for (const id of ['dev-events', 'dev-status', 'dev-willed', 'dev-silent', 'dev-never']) await services.devices.add(id);
    await services.ingest.ingest('dev-events', batchPayload('dev-events', makeEvents(1)), 'mqtt');
    await services.status.record('dev-status', JSON.stringify({ v: 1, state: 'online' }));
    await services.ingest.ingest('dev-willed', batchPayload('dev-willed', makeEvents(1)), 'mqtt');
    await new Promise((r) => setTimeout(r, 10));
    await services.status.record('dev-willed', JSON.stringify({ v: 1, state: 'offline' }));
    await services.ingest.ingest('dev-silent', batchPayload('dev-silent', makeEvents(1)), 'mqtt');
    now = new Date();
    expect(await value(OPS_METRICS.devicesRegistered)).toBe(5);
    // dev-silent is online too until offlineAfterS passes...
    expect(await value(OPS_METRICS.devicesOnline)).toBe(3);
    // ...then everything reported before is stale.
    now = new Date(Date.now() + 901_000);
    expect(await value(OPS_METRICS.devicesOnline)).toBe(0);
    now = new Date();
  });

  it(name === 'postgres' ? 'reads the pool counters (total, idle, waiting, max)' : 'reads 0 for the pool on the embedded database (no pool)', async () => {
    if (name === 'postgres') {
      expect(await value(OPS_METRICS.poolMax)).toBe(20);
      expect(await value(OPS_METRICS.poolTotal)).toBeGreaterThanOrEqual(1);
      expect((await values(OPS_METRICS.poolIdle)).length).toBe(1);
      expect(await value(OPS_METRICS.poolWaiting)).toBe(0);
    } else {
      for (const metric of [OPS_METRICS.poolMax, OPS_METRICS.poolTotal, OPS_METRICS.poolIdle, OPS_METRICS.poolWaiting]) expect(await value(metric)).toBe(0);
    }
  });

  it('keeps the last values and says db_up 0 when the database does not answer in time', async () => {
    let hang = false;
    const flaky = { execute: (query: never) => (hang ? new Promise<never>(() => undefined) : database.db.execute(query)) };
    const slow = new Registry();
    registerOpsMetrics({ db: flaky as never, registry: slow, logger: testLogger(), offlineAfterS: 900, timeoutMs: 50, clock: () => now, cacheMs: 0 });
    const read = async (metric: string, labels: Record<string, string> = {}) =>
      ((await slow.getMetricsAsJSON()).find((m) => m.name === metric)?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
        .reduce((sum, v) => sum + v.value, 0);
    expect(await read(OPS_METRICS.dbUp)).toBe(1);
    const registered = await read(OPS_METRICS.devicesRegistered);
    const severe = await read(OPS_METRICS.alarmsOpen, { type: 'severe_damage' });
    expect(registered).toBeGreaterThan(0);
    hang = true;
    expect(await read(OPS_METRICS.dbUp)).toBe(0);
    expect(await read(OPS_METRICS.devicesRegistered)).toBe(registered);
    expect(await read(OPS_METRICS.alarmsOpen, { type: 'severe_damage' })).toBe(severe);
    // Registering again (a hub restarted in one process) replaces the collectors instead of failing.
    registerOpsMetrics({ db: database.db, registry: slow, logger: testLogger(), offlineAfterS: 900 });
    expect(await read(OPS_METRICS.dbUp)).toBe(1);
  });
});
