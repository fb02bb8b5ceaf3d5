import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import type { DeviceView, DeviceViewPage } from '../../services/device-views.js';
import { batchPayload, makeEvent } from '../../services/testing/fixtures.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import type { ErrorEnvelope } from '../errors.js';
import { LIMIT_CASES, LIMIT_MESSAGE, OFFSET_CASES, OFFSET_MESSAGE } from '../testing/query-cases.js';
import { DevicePageSchema, DeviceSchema } from './spec.js';

describe.each(testDatabases())('devices API on $name', (testDb) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (path: string, token: string | null = t.tokens.read) => {
    const res = await t.app.request(path, { headers: token ? bearer(token) : {} });
    const body = (await res.json()) as DeviceViewPage & DeviceView & ErrorEnvelope;
    return { res, status: res.status, body, error: body.error };
  };

  it('empty database: an empty list, not an error', async () => {
    const { status, body } = await get('/api/v1/devices');
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], total: 0, limit: 100, offset: 0 });
  });

  it('needs a read token: 401 without one', async () => {
    for (const path of ['/api/v1/devices', '/api/v1/devices/veh-1']) {
      const { res, status } = await get(path, null);
      expect(status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    }
  });

  it.each(LIMIT_CASES)('limit=%s → accepted: %s', async (limit, ok) => {
    const { status, error } = await get(`/api/v1/devices?limit=${limit}`);
    expect(status).toBe(ok ? 200 : 400);
    if (!ok) expect(error.message).toContain(LIMIT_MESSAGE);
  });

  it.each(OFFSET_CASES)('offset=%s → accepted: %s', async (offset, ok) => {
    const { status, error } = await get(`/api/v1/devices?offset=${offset}`);
    expect(status).toBe(ok ? 200 : 400);
    if (!ok) expect(error.message).toContain(OFFSET_MESSAGE);
  });

  describe('with vehicles', () => {
    beforeAll(async () => {
      for (const id of ['veh-1', 'veh-2', 'veh-3']) await t.services.devices.add(id);
      await t.services.status.record(
        'veh-1',
        JSON.stringify({ v: 1, state: 'online', agentVersion: '0.3.1', queueDepth: 42, queueBytes: 9000, oldestUnsyncedAgeS: 12.5, sensors: { camera: 'ok', gps: 'fault' }, faults: ['gps: no fix'] }),
      );
      await t.services.status.record('veh-2', JSON.stringify({ v: 1, state: 'offline' }));
      const out = await t.services.ingest.ingest('veh-1', batchPayload('veh-1', [makeEvent({ model: 'road-damage-tiny@2' })]), 'mqtt');
      expect(out.stored).toBe(1);
    });

    it('lists every vehicle by id with state, last seen, queue and versions', async () => {
      const { status, body } = await get('/api/v1/devices');
      expect(status).toBe(200);
      DevicePageSchema.parse(body);
      expect(body.total).toBe(3);
      expect(body.items.map((d) => [d.deviceId, d.state, d.online])).toEqual([
        ['veh-1', 'online', true],
        ['veh-2', 'offline', false],
        ['veh-3', 'unknown', false],
      ]);
      const [v1, v2, v3] = body.items;
      expect(v1).toMatchObject({
        queue: { depth: 42, bytes: 9000, oldestUnsyncedAgeS: 12.5, lastAckAt: null, evictedTotal: null },
        versions: { agent: '0.3.1', model: 'road-damage-tiny@2' },
        sensors: { camera: 'ok', gps: 'fault' },
        faults: ['gps: no fix'],
      });
      expect(v1!.lastEventAt).not.toBeNull();
      expect(v1!.lastSeenAt! >= v1!.lastEventAt!).toBe(true);
      expect(v1!.lastSeenAt! >= v1!.statusAt!).toBe(true);
      // The last will reports nothing but the state.
      expect(v2).toMatchObject({ queue: { depth: null }, versions: { agent: null, model: null }, lastEventAt: null, statusAt: expect.any(String) });
      expect(v3).toMatchObject({ lastSeenAt: null, statusAt: null, sensors: {}, faults: [], detector: { p95Ms: null, fps: null } });
    });

    it('filters by state and pages', async () => {
      expect((await get('/api/v1/devices?state=offline,unknown')).body.items.map((d) => d.deviceId)).toEqual(['veh-2', 'veh-3']);
      expect((await get('/api/v1/devices?state=online')).body.total).toBe(1);
      const page = (await get('/api/v1/devices?limit=1&offset=1')).body;
      expect(page).toMatchObject({ total: 3, limit: 1, offset: 1 });
      expect(page.items.map((d) => d.deviceId)).toEqual(['veh-2']);
      const bad = await get('/api/v1/devices?state=asleep');
      expect(bad.status).toBe(400);
      expect(bad.error.message).toContain('state: unknown value "asleep" — use one or more of online, offline, unknown');
    });

    it('GET /api/v1/devices/{id}: one vehicle, 404 for an unknown one', async () => {
      const { status, body } = await get('/api/v1/devices/veh-1');
      expect(status).toBe(200);
      expect(DeviceSchema.parse(body)).toMatchObject({ deviceId: 'veh-1', online: true, queue: { depth: 42 }, versions: { agent: '0.3.1' } });
      const missing = await get('/api/v1/devices/veh-404');
      expect(missing.status).toBe(404);
      expect(missing.error).toMatchObject({ code: 'not_found', message: 'device veh-404 is not registered: check the id against GET /api/v1/devices' });
    });

    it('carries the detector inference p95 and frames a second of the latest status; null when not reported', async () => {
      await t.services.devices.add('veh-4');
      expect(await t.services.status.record('veh-4', JSON.stringify({ v: 1, state: 'online', sensors: { camera: 'ok', gps: 'ok', detector: 'ok' }, detector: { p95Ms: 38.4, fps: 4.75 } }))).toBe(true);
      const { body } = await get('/api/v1/devices');
      DevicePageSchema.parse(body);
      const by = Object.fromEntries(body.items.map((d) => [d.deviceId, d]));
      expect(by['veh-4']!.detector).toEqual({ p95Ms: 38.4, fps: 4.75 });
      // An agent that does not send it (older, or without a camera), and the offline last will.
      expect(by['veh-1']!.detector).toEqual({ p95Ms: null, fps: null });
      expect(by['veh-2']!.detector).toEqual({ p95Ms: null, fps: null });
      expect(DeviceSchema.parse((await get('/api/v1/devices/veh-4')).body).detector).toEqual({ p95Ms: 38.4, fps: 4.75 });
      // Not measured yet: the agent sends nulls.
      expect(await t.services.status.record('veh-4', JSON.stringify({ v: 1, state: 'online', detector: { p95Ms: null, fps: 0 } }))).toBe(true);
      expect((await get('/api/v1/devices/veh-4')).body.detector).toEqual({ p95Ms: null, fps: 0 });
      // An offline last will replaces the status: nothing reported any more.
      await t.services.status.record('veh-4', JSON.stringify({ v: 1, state: 'offline' }));
      expect((await get('/api/v1/devices/veh-4')).body.detector).toEqual({ p95Ms: null, fps: null });
    });
  });
});
