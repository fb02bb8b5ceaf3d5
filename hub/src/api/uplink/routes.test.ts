import { request as httpRequest } from 'node:http';
import { AckSchema, newBatchId } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, testLogger } from '../../db/testing/databases.js';
import { execRows } from '../../db/rows.js';
import { batchPayload, makeEvent, makeEvents } from '../../services/testing/fixtures.js';
import { createServices, type Services } from '../../services/index.js';
import type { BatchIngest } from '../../services/ports.js';
import { createApp } from '../app.js';
import { startHttpServer, type RunningHttpServer } from '../server.js';
import { openTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../testing/app.js';
import { envelope } from '../testing/harness.js';
import { parseBasic } from './routes.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;
const MAX_BODY = 64 * 1024;

const basic = (user: string, secret: string): Record<string, string> => ({ Authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}` });

describe('POST /api/v1/devices/{deviceId}/events (HTTPS uplink)', () => {
  let t: TestApp;
  let secret: string;
  let otherSecret: string;
  beforeAll(async () => {
    t = await openTestApp(pglite, { access: { allowedIps: ['192.0.2.0/24'] }, uplink: { maxBodyBytes: MAX_BODY } });
    secret = (await t.services.devices.add('veh-1')).secret;
    otherSecret = (await t.services.devices.add('veh-2')).secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (deviceId: string, body: string | undefined, headers: Record<string, string> = basic('veh-1', secret)) =>
    t.app.request(`/api/v1/devices/${deviceId}/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, ...(body === undefined ? {} : { body }) });
  const count = async (table: 'detections' | 'quarantine') =>
    Number((await execRows<{ n: number }>(t.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await t.registry.getMetricsAsJSON()).find((x) => x.name === name);
    return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
  };

  it('stores an accepted batch and answers with the same ack as MQTT, without an API token, from any address', async () => {
    const events = makeEvents(3);
    const batchId = newBatchId();
    const before = await count('detections');
    const res = await post('veh-1', batchPayload('veh-1', events, batchId));
    expect(res.status).toBe(200);
    const ack = AckSchema.parse(await res.json());
    expect(ack).toEqual({ v: 1, batchId, stored: expect.any(Array), duplicates: 0, rejected: [] });
    expect(new Set(ack.stored)).toEqual(new Set(events.map((e) => e.eventId)));
    expect(await count('detections')).toBe(before + 3);
    // The ack the MQTT bridge publishes is the ingest service's ack: the same keys, the same values for the same input.
    const viaMqtt = await t.services.ingest.ingest('veh-1', batchPayload('veh-1', makeEvents(1)), 'mqtt');
    expect(Object.keys(ack).sort()).toEqual(Object.keys(viaMqtt.ack!).sort());
    expect(await metric('roadwatch_hub_batches_total', { channel: 'http' })).toBe(1);
    expect(await metric('roadwatch_hub_uplink_requests_total', { result: 'acked' })).toBe(1);
  });

  it('acks a batch sent again as duplicates and stores nothing twice', async () => {
    const events = makeEvents(2);
    const payload = batchPayload('veh-1', events, newBatchId());
    expect((await post('veh-1', payload)).status).toBe(200);
    const stored = await count('detections');
    const again = await post('veh-1', payload);
    expect(again.status).toBe(200);
    const ack = AckSchema.parse(await again.json());
    expect(ack).toMatchObject({ stored: [], duplicates: 2, rejected: [] });
    expect(await count('detections')).toBe(stored);
  });

  it('settles an event that can never be valid in the ack (quarantined), storing its neighbours', async () => {
    const good = makeEvent();
    const bad = makeEvent({ lat: 95 });
    const res = await post('veh-1', batchPayload('veh-1', [good, bad]));
    expect(res.status).toBe(200);
    const ack = AckSchema.parse(await res.json());
    expect(ack.stored).toEqual([good.eventId]);
    expect(ack.rejected).toEqual([{ seq: bad.seq, eventId: bad.eventId, reason: expect.stringContaining('lat out of range') }]);
  });

  it('401 for a wrong secret, an unknown device or no credentials, with a Basic challenge', async () => {
    const payload = batchPayload('veh-1', makeEvents(1));
    const before = await count('detections');
    for (const headers of [basic('veh-1', 'not-the-secret'), basic('veh-9', secret), {}, { Authorization: 'Basic !!!' }, { Authorization: 'Bearer rwt_x' }]) {
      const res = await post('veh-1', payload, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toBe('Basic realm="roadwatch-devices", charset="UTF-8"');
      const error = await envelope(res);
      expect(error.code).toBe('unauthorized');
      expect(error.message).toMatch(/device credentials|wrong secret/);
    }
    expect(await count('detections')).toBe(before);
    expect(await metric('roadwatch_hub_uplink_requests_total', { result: 'unauthorized' })).toBe(5);
  });

  it("403 when a device posts under another device's id, even with that device's batch", async () => {
    const res = await post('veh-2', batchPayload('veh-2', makeEvents(1)), basic('veh-1', secret));
    expect(res.status).toBe(403);
    expect(await envelope(res)).toMatchObject({ code: 'forbidden_device', message: 'device veh-1 may only post its own events: use POST /api/v1/devices/veh-1/events' });
    // veh-2 with its own secret may.
    expect((await post('veh-2', batchPayload('veh-2', makeEvents(1)), basic('veh-2', otherSecret))).status).toBe(200);
  });

  it('400 invalid_json for a body that is not JSON: quarantined, nothing lost; an ack when the batch id is readable', async () => {
    const quarantined = await count('quarantine');
    const res = await post('veh-1', '{"v":1, nope');
    expect(res.status).toBe(400);
    const body = (await res.clone().json()) as { ack?: unknown };
    const error = await envelope(res);
    expect(error.code).toBe('invalid_json');
    expect(error.message).toMatch(/^request body is not a JSON batch: not valid JSON: .* — the batch was quarantined/);
    expect(body.ack).toBeUndefined();

    const batchId = newBatchId();
    const truncated = batchPayload('veh-1', makeEvents(2), batchId).slice(0, 120);
    const withId = await post('veh-1', truncated);
    expect(withId.status).toBe(400);
    const parsed = (await withId.json()) as { error: { code: string }; ack: unknown };
    expect(parsed.error.code).toBe('invalid_json');
    expect(AckSchema.parse(parsed.ack)).toMatchObject({ batchId, stored: [], error: expect.stringMatching(/^not valid JSON/) });

    const empty = await post('veh-1', undefined);
    expect(empty.status).toBe(400);
    expect((await envelope(empty)).code).toBe('invalid_json');
    expect(await count('quarantine')).toBe(quarantined + 3);
  });

  it('400 invalid_batch naming the field, and 400 device_mismatch when the batch names another device', async () => {
    const batchId = newBatchId();
    const noVersion = JSON.stringify({ deviceId: 'veh-1', batchId, sentAt: new Date().toISOString(), events: [makeEvent()] });
    const res = await post('veh-1', noVersion);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string }; ack: { batchId: string; error: string } };
    expect(body.error.code).toBe('invalid_batch');
    expect(body.error.message).toContain('v:');
    expect(body.ack).toMatchObject({ batchId, error: expect.stringContaining('v:') });

    const mismatch = await post('veh-1', batchPayload('veh-2', makeEvents(1)));
    expect(mismatch.status).toBe(400);
    expect(await envelope(mismatch)).toMatchObject({ code: 'device_mismatch', message: expect.stringContaining('does not match the device in the URL (veh-1)') });
  });

  it('413 for a body over uplink.maxBodyBytes, before anything is stored', async () => {
    const quarantined = await count('quarantine');
    const detections = await count('detections');
    const big = batchPayload('veh-1', [makeEvent({ model: 'x'.repeat(100) })]).padEnd(MAX_BODY + 1, ' ');
    const res = await post('veh-1', big);
    expect(res.status).toBe(413);
    expect(await envelope(res)).toMatchObject({ code: 'payload_too_large', message: expect.stringContaining(`uplink.maxBodyBytes (${MAX_BODY} bytes)`) });
    // Just under the limit is fine.
    const fits = batchPayload('veh-1', makeEvents(1)).padEnd(MAX_BODY, ' ');
    expect((await post('veh-1', fits)).status).toBe(200);
    expect(await count('quarantine')).toBe(quarantined);
    expect(await count('detections')).toBe(detections + 1);
    expect(await metric('roadwatch_hub_uplink_requests_total', { result: 'too_large' })).toBe(1);
  });

  it('times requests by route pattern, never by raw path', async () => {
    await post('veh-1', batchPayload('veh-1', makeEvents(1)));
    const m = (await t.registry.getMetricsAsJSON()).find((x) => x.name === 'roadwatch_hub_http_request_duration_seconds');
    const routes = new Set(m!.values.map((v) => v.labels.route));
    expect(routes).toContain('/api/v1/devices/:deviceId/events');
    expect([...routes].some((r) => String(r).includes('veh-1'))).toBe(false);
  });

  describe('over a real socket', () => {
    let server: RunningHttpServer;
    beforeAll(async () => {
      server = await startHttpServer({ app: t.app, host: '127.0.0.1', port: 0, logger: testLogger() });
    });
    afterAll(async () => {
      await server?.close();
    });

    it('refuses a declared Content-Length over the limit with 413 without reading the body', async () => {
      const res = await rawPost(server.port, '/api/v1/devices/veh-1/events', { ...basic('veh-1', secret), 'Content-Length': String(MAX_BODY * 100) }, 'x'.repeat(1024));
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'payload_too_large' } });
    });

    it('refuses a chunked body once it passes the limit', async () => {
      const res = await rawPost(server.port, '/api/v1/devices/veh-1/events', basic('veh-1', secret), 'y'.repeat(MAX_BODY + 10), true);
      expect(res.status).toBe(413);
    });

    it('accepts a batch sent with fetch (Content-Length set)', async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/devices/veh-1/events`, {
        method: 'POST',
        headers: { ...basic('veh-1', secret), 'Content-Type': 'application/json' },
        body: batchPayload('veh-1', makeEvents(2)),
      });
      expect(res.status).toBe(200);
      expect(AckSchema.parse(await res.json()).stored).toHaveLength(2);
    });
  });
});

describe('HTTPS uplink when the hub cannot store', () => {
  let testDb: Awaited<ReturnType<typeof pglite.open>>;
  let services: Services;
  let secret: string;
  beforeAll(async () => {
    testDb = await pglite.open();
    services = createServices({ database: testDb, logger: testLogger() });
    secret = (await services.devices.add('veh-1')).secret;
  });
  afterAll(async () => {
    await testDb?.close();
  });

  const failing = (options: { ingest?: BatchIngest; verify?: () => Promise<boolean>; accepting?: () => boolean }) => {
    const devices = services.devices;
    const app = createApp({
      services: {
        ...services,
        ...(options.ingest ? { ingest: options.ingest } : {}),
        devices: { add: devices.add.bind(devices), list: devices.list.bind(devices), verify: options.verify ?? devices.verify.bind(devices) },
      },
      readiness: () => ({ db: true, broker: true }),
      registry: new Registry(),
      adminToken: TEST_ADMIN_TOKEN,
      logger: testLogger(),
      uplink: { maxBodyBytes: MAX_BODY, ...(options.accepting ? { accepting: options.accepting } : {}) },
    });
    return app.request('/api/v1/devices/veh-1/events', { method: 'POST', headers: basic('veh-1', secret), body: batchPayload('veh-1', makeEvents(1)) });
  };

  it('503 with Retry-After when the database fails during ingest: not acked, no internals in the answer', async () => {
    const res = await failing({ ingest: { ingest: () => Promise.reject(new Error('connect ECONNREFUSED 10.9.8.7:5432')) } });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('10');
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 'unavailable', message: expect.stringContaining('resend') } });
    expect(text).not.toContain('10.9.8.7');
  });

  it('503 when the credentials cannot be checked (database down)', async () => {
    const res = await failing({ verify: () => Promise.reject(new Error('db down')) });
    expect(res.status).toBe(503);
    expect((await envelope(res)).code).toBe('unavailable');
  });

  it('503 shutting_down while the hub stops', async () => {
    const res = await failing({ accepting: () => false });
    expect(res.status).toBe(503);
    expect(res.headers.get('Retry-After')).toBe('10');
    expect((await envelope(res)).code).toBe('shutting_down');
  });
});

describe('parseBasic', () => {
  it('reads user and secret (the secret may hold colons); refuses anything else', () => {
    expect(parseBasic(`Basic ${Buffer.from('veh-1:a:b').toString('base64')}`)).toEqual({ user: 'veh-1', secret: 'a:b' });
    expect(parseBasic(`basic ${Buffer.from('veh-1:s').toString('base64')}`)).toEqual({ user: 'veh-1', secret: 's' });
    expect(parseBasic(undefined)).toBeNull();
    expect(parseBasic(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeNull();
    expect(parseBasic(`Basic ${Buffer.from(':secret').toString('base64')}`)).toBeNull();
    expect(parseBasic('Bearer abc')).toBeNull();
  });
});

/** A POST with exactly these headers (node:http, so Content-Length can be declared larger than the body, or chunked). */
function rawPost(port: number, path: string, headers: Record<string, string>, body: string, chunked = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // agent: false — a fresh connection each time: one left mid-body must not carry the next request.
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (err) => (text413(err) ? undefined : reject(err)));
    if (chunked) {
      for (let i = 0; i < body.length; i += 8192) req.write(body.slice(i, i + 8192));
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** The server may answer 413 and close while the client still writes: that write error is expected. */
function text413(err: NodeJS.ErrnoException): boolean {
  return err.code === 'EPIPE' || err.code === 'ECONNRESET';
}
