import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTopic, newBatchId, UserError } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubConfigSchema } from '../config/schema.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { createServices } from '../services/index.js';
import { batchPayload, makeEvent, makeEvents } from '../services/testing/fixtures.js';
import { MqttBroker } from './index.js';
import { ackCollector, connectDevice, eventually, sleep, startTestBroker, type TestBroker } from './testing/harness.js';

const MAX_PAYLOAD = 64 * 1024;
const pglite = testDatabases().find((d) => d.name === 'pglite')!;

const closed = (client: MqttClient) => new Promise<void>((resolve) => (client.disconnected || !client.connected ? resolve() : client.once('close', () => resolve())));

describe.each(testDatabases())('MqttBroker on $name', (testDb) => {
  let t: TestBroker;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];

  const connect = async (deviceId: string) => {
    const client = await connectDevice(t.url, deviceId, secrets[deviceId]!);
    clients.push(client);
    return client;
  };
  const countRows = async (table: 'detections' | 'quarantine', deviceId: string) =>
    (await execRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from ${sql.identifier(table)} where device_id = ${deviceId}`))[0]!.n;
  const storedTimes = async (eventId: string) =>
    (await execRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from detections where event_id = ${eventId}`))[0]!.n;

  beforeAll(async () => {
    t = await startTestBroker(testDb, { maxPayloadBytes: MAX_PAYLOAD, ingestConcurrency: 2 });
    for (const id of ['veh-1', 'veh-2', 'veh-3', 'veh-4']) secrets[id] = (await t.services.devices.add(id)).secret;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    await t?.close();
  });

  it('acks a batch from a registered device after storing its events', async () => {
    const client = await connect('veh-1');
    const acks = await ackCollector(client, 'veh-1');
    const events = makeEvents(3);
    const batchId = newBatchId();
    await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', events, batchId), { qos: 1 });
    const ack = await acks.waitFor(batchId);
    expect(ack).toMatchObject({ v: 1, batchId, duplicates: 0, rejected: [] });
    expect(new Set(ack.stored)).toEqual(new Set(events.map((e) => e.eventId)));
    for (const e of events) expect(await storedTimes(e.eventId)).toBe(1);
    expect(t.broker.ready).toBe(true);
  });

  it('acks a resent batch as duplicates and never stores it twice', async () => {
    const client = await connect('veh-2');
    const acks = await ackCollector(client, 'veh-2');
    const events = makeEvents(2);
    const batchId = newBatchId();
    const payload = batchPayload('veh-2', events, batchId);
    await client.publishAsync(deviceTopic('veh-2', 'events'), payload, { qos: 1 });
    await acks.waitFor(batchId);
    acks.acks.clear();
    await client.publishAsync(deviceTopic('veh-2', 'events'), payload, { qos: 1 });
    expect(await acks.waitFor(batchId)).toMatchObject({ stored: [], duplicates: 2 });
    for (const e of events) expect(await storedTimes(e.eventId)).toBe(1);
  });

  it('refuses a wrong secret, an unknown device and a username other than the client id', async () => {
    const before = await t.metric('roadwatch_hub_auth_failures_total');
    await expect(connectDevice(t.url, 'veh-1', 'wrong-secret')).rejects.toMatchObject({ code: 4 });
    await expect(connectDevice(t.url, 'veh-unknown', 'whatever')).rejects.toMatchObject({ code: 4 });
    await expect(connectDevice(t.url, 'veh-1', secrets['veh-1']!, { clientId: 'someone-else' })).rejects.toMatchObject({ code: 4 });
    await expect(connectDevice(t.url, 'veh-1', '')).rejects.toMatchObject({ code: 4 });
    expect(await t.metric('roadwatch_hub_auth_failures_total', { reason: 'bad_credentials' })).toBeGreaterThanOrEqual(2);
    expect(await t.metric('roadwatch_hub_auth_failures_total')).toBe(before + 4);
    const refused = t.lines.filter((l) => l.msg === 'mqtt connection refused');
    expect(refused.map((l) => l.deviceId)).toEqual(expect.arrayContaining(['veh-1', 'veh-unknown']));
    expect(refused.every((l) => l.level === 40)).toBe(true);
    expect(JSON.stringify(refused)).not.toContain('wrong-secret');
  });

  it("closes a device that publishes to another device's topic; nothing is ingested and other devices are unaffected", async () => {
    const intruder = await connect('veh-3');
    const victim = await connect('veh-4');
    const victimAcks = await ackCollector(victim, 'veh-4');
    const event = makeEvent();
    const deniedBefore = await t.metric('roadwatch_hub_acl_denied_total', { action: 'publish' });
    intruder.publish(deviceTopic('veh-4', 'events'), batchPayload('veh-4', [event]), { qos: 1 });
    await closed(intruder);
    expect(await t.metric('roadwatch_hub_acl_denied_total', { action: 'publish' })).toBe(deniedBefore + 1);
    expect(t.lines.some((l) => l.msg.startsWith('mqtt publish denied') && l.deviceId === 'veh-3')).toBe(true);
    await sleep(100);
    expect(await storedTimes(event.eventId)).toBe(0);

    const own = makeEvent();
    const batchId = newBatchId();
    await victim.publishAsync(deviceTopic('veh-4', 'events'), batchPayload('veh-4', [own], batchId), { qos: 1 });
    expect((await victimAcks.waitFor(batchId)).stored).toEqual([own.eventId]);
  });

  it("denies subscribing to another device's acks or to wildcards", async () => {
    const client = await connect('veh-1');
    const before = await t.metric('roadwatch_hub_acl_denied_total', { action: 'subscribe' });
    // mqtt.js rejects a subscription answered with the SUBACK failure code 0x80.
    await expect(client.subscribeAsync(deviceTopic('veh-2', 'acks'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync('roadwatch/v1/devices/+/acks', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect((await client.subscribeAsync(deviceTopic('veh-1', 'commands'), { qos: 1 })).map((g) => g.qos)).toEqual([1]);
    expect(client.connected).toBe(true);
    expect(await t.metric('roadwatch_hub_acl_denied_total', { action: 'subscribe' })).toBe(before + 2);
    expect(await t.metric('roadwatch_hub_acl_denied_total', { action: 'subscribe' })).toBeGreaterThanOrEqual(2);
  });

  describe('bad payloads are counted, never crash the hub and never store twice', () => {
    let client: MqttClient;
    let acks: Awaited<ReturnType<typeof ackCollector>>;
    beforeAll(async () => {
      client = await connect('veh-1');
      acks = await ackCollector(client, 'veh-1');
    });

    it('malformed JSON: quarantined, no ack possible', async () => {
      const before = await t.metric('roadwatch_hub_mqtt_dropped_total', { reason: 'unparseable' });
      const quarantined = await countRows('quarantine', 'veh-1');
      await client.publishAsync(deviceTopic('veh-1', 'events'), '{"v":1,"events":[', { qos: 1 });
      await eventually(async () => (await t.metric('roadwatch_hub_mqtt_dropped_total', { reason: 'unparseable' })) === before + 1, 'unparseable count');
      expect(await countRows('quarantine', 'veh-1')).toBe(quarantined + 1);
    });

    it('lat 95: the event is rejected in the ack and quarantined, its neighbour stored', async () => {
      const bad = makeEvent({ lat: 95 });
      const good = makeEvent();
      const batchId = newBatchId();
      await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', [bad, good], batchId), { qos: 1 });
      const ack = await acks.waitFor(batchId);
      expect(ack.stored).toEqual([good.eventId]);
      expect(ack.rejected).toEqual([{ seq: bad.seq, eventId: bad.eventId, reason: expect.stringContaining('lat') }]);
      expect(await storedTimes(bad.eventId)).toBe(0);
      expect(await t.metric('roadwatch_hub_events_rejected_total', { reason: 'event' })).toBeGreaterThanOrEqual(1);
    });

    it('deviceId in the payload differing from the topic: the batch is rejected whole', async () => {
      const event = makeEvent();
      const batchId = newBatchId();
      await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-2', [event], batchId), { qos: 1 });
      const ack = await acks.waitFor(batchId);
      expect(ack).toMatchObject({ stored: [], error: expect.stringContaining('veh-2') });
      expect(await storedTimes(event.eventId)).toBe(0);
      expect(await t.metric('roadwatch_hub_events_rejected_total', { reason: 'device_mismatch' })).toBe(1);
    });

    it('a payload over mqtt.maxPayloadBytes is dropped without ack; the connection survives', async () => {
      const event = makeEvent({ model: 'x'.repeat(100) });
      const batchId = newBatchId();
      const events = [event];
      while (batchPayload('veh-1', events, batchId).length <= MAX_PAYLOAD) events.push(makeEvent());
      const payload = batchPayload('veh-1', events, batchId);
      expect(payload.length).toBeGreaterThan(MAX_PAYLOAD);
      expect(payload.length).toBeLessThan(MAX_PAYLOAD + 4096);
      await client.publishAsync(deviceTopic('veh-1', 'events'), payload, { qos: 1 });
      await eventually(async () => (await t.metric('roadwatch_hub_mqtt_dropped_total', { channel: 'events', reason: 'oversized' })) === 1, 'oversized count');
      expect(t.lines.some((l) => l.msg.startsWith('batch dropped: payload larger') && l.deviceId === 'veh-1' && l.level === 40)).toBe(true);
      await sleep(100);
      expect(acks.acks.has(batchId)).toBe(false);
      expect(await storedTimes(event.eventId)).toBe(0);
      // Still connected and served.
      const next = newBatchId();
      await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', [makeEvent()], next), { qos: 1 });
      expect((await acks.waitFor(next)).stored).toHaveLength(1);
    });

    it('a packet far beyond the limit closes the connection at its header', async () => {
      const big = await connectDevice(t.url, 'veh-2', secrets['veh-2']!);
      clients.push(big);
      big.publish(deviceTopic('veh-2', 'events'), Buffer.alloc(4 * MAX_PAYLOAD, 0x20), { qos: 1 });
      await closed(big);
      expect(await t.metric('roadwatch_hub_mqtt_dropped_total', { reason: 'frame_too_large' })).toBe(1);
      // The hub still serves everyone else.
      const next = newBatchId();
      await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', [makeEvent()], next), { qos: 1 });
      expect((await acks.waitFor(next)).stored).toHaveLength(1);
    });
  });

  it('records status messages and the last will; an invalid status is counted', async () => {
    const will = { topic: deviceTopic('veh-3', 'status'), payload: Buffer.from('{"v":1,"state":"offline"}'), qos: 1 as const, retain: true };
    const client = await connectDevice(t.url, 'veh-3', secrets['veh-3']!, { will });
    await client.publishAsync(deviceTopic('veh-3', 'status'), JSON.stringify({ v: 1, state: 'online', queueDepth: 3 }), { qos: 1, retain: true });
    const state = async () => (await t.services.devices.list()).find((d) => d.deviceId === 'veh-3')?.state;
    await eventually(async () => (await state()) === 'online', 'online status');
    await client.publishAsync(deviceTopic('veh-3', 'status'), '{"v":1,"state":"sleeping"}', { qos: 1 });
    await eventually(async () => (await t.metric('roadwatch_hub_mqtt_status_total', { result: 'invalid' })) === 1, 'invalid status count');
    client.stream.destroy(); // an unclean disconnect fires the last will
    await eventually(async () => (await state()) === 'offline', 'offline last will');
  });
});

describe('MqttBroker lifecycle', () => {
  it('speaks TLS with a configured certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rw-tls-'));
    try {
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
      const t = await startTestBroker(pglite, { tlsCertFile: cert, tlsKeyFile: key });
      try {
        expect(t.url).toMatch(/^mqtts:/);
        const { secret } = await t.services.devices.add('veh-tls');
        const client = await connectDevice(t.url, 'veh-tls', secret, { ca: readFileSync(cert), rejectUnauthorized: true });
        const acks = await ackCollector(client, 'veh-tls');
        const batchId = newBatchId();
        await client.publishAsync(deviceTopic('veh-tls', 'events'), batchPayload('veh-tls', makeEvents(2), batchId), { qos: 1 });
        expect((await acks.waitFor(batchId)).stored).toHaveLength(2);
        await client.endAsync();
        // Plain MQTT on the TLS port does not get in.
        await expect(connectDevice(t.url.replace('mqtts:', 'mqtt:'), 'veh-tls', secret, { connectTimeout: 1000 })).rejects.toBeDefined();
        expect(t.lines.find((l) => l.msg === 'mqtt listening')).toMatchObject({ tls: true, port: t.port });
      } finally {
        await t.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('explains an unreadable TLS file', async () => {
    const database = await pglite.open();
    try {
      const config = HubConfigSchema.parse({ host: '127.0.0.1', mqttPort: 0, mqtt: { tlsCertFile: '/nope/cert.pem', tlsKeyFile: '/nope/key.pem' } });
      const broker = new MqttBroker({ config, services: createServices({ database, logger: testLogger() }), logger: testLogger(), registry: new Registry() });
      const error = await broker.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toBe('MQTT TLS certificate file /nope/cert.pem: not found — fix mqtt.tlsCertFile (ROADWATCH_HUB_TLS_CERT) or unset both to use plain TCP');
    } finally {
      await database.close();
    }
  });

  it('explains a port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const database = await pglite.open();
    try {
      const config = HubConfigSchema.parse({ host: '127.0.0.1', mqttPort: port });
      const broker = new MqttBroker({ config, services: createServices({ database, logger: testLogger() }), logger: testLogger(), registry: new Registry() });
      await expect(broker.start()).rejects.toThrow(
        `port ${port} is already in use (another MQTT broker such as mosquitto?) — stop it or set ROADWATCH_HUB_MQTT_PORT to a free port (0 picks one)`,
      );
      expect(broker.ready).toBe(false);
    } finally {
      blocker.close();
      await database.close();
    }
  });

  it('a database failure during ingest is logged and counted, not acked, and the hub keeps running', async () => {
    const t = await startTestBroker(pglite);
    try {
      const { secret } = await t.services.devices.add('veh-dbdown');
      const client = await connectDevice(t.url, 'veh-dbdown', secret);
      const acks = await ackCollector(client, 'veh-dbdown');
      await t.database.close();
      const batchId = newBatchId();
      await client.publishAsync(deviceTopic('veh-dbdown', 'events'), batchPayload('veh-dbdown', makeEvents(2), batchId), { qos: 1 });
      await eventually(async () => (await t.metric('roadwatch_hub_mqtt_batches_total', { result: 'error' })) === 1, 'ingest error count');
      expect(t.lines.some((l) => l.msg.startsWith('batch ingest failed') && l.level === 50 && l.deviceId === 'veh-dbdown')).toBe(true);
      await sleep(100);
      expect(acks.acks.has(batchId)).toBe(false);
      expect(client.connected).toBe(true);
      expect(t.broker.ready).toBe(true);
      // New connections are told the server is unavailable (CONNACK 3) rather than "bad password".
      await expect(connectDevice(t.url, 'veh-dbdown', secret)).rejects.toMatchObject({ code: 3 });
      expect(await t.metric('roadwatch_hub_auth_failures_total', { reason: 'error' })).toBe(1);
      await client.endAsync(true);
    } finally {
      await t.broker.stop();
    }
  });

  it('stop() waits for admitted ingests to commit, then closes', async () => {
    const t = await startTestBroker(pglite, { ingestConcurrency: 1 });
    let stopped = false;
    try {
      const { secret } = await t.services.devices.add('veh-drain');
      const client = await connectDevice(t.url, 'veh-drain', secret);
      const batches = 5;
      await Promise.all(
        Array.from({ length: batches }, () => client.publishAsync(deviceTopic('veh-drain', 'events'), batchPayload('veh-drain', makeEvents(50)), { qos: 1 })),
      );
      await eventually(async () => (await t.metric('roadwatch_hub_batches_total')) >= 1, 'first batch received');
      await t.broker.stop();
      stopped = true;
      expect(t.broker.ready).toBe(false);
      expect(await t.metric('roadwatch_hub_mqtt_ingest_in_flight')).toBe(0);
      expect(await t.metric('roadwatch_hub_mqtt_ingest_waiting')).toBe(0);
      const received = await t.metric('roadwatch_hub_batches_total');
      const rows = (await execRows<{ n: number }>(t.database.db, sql`select count(*)::int as n from detections where device_id = 'veh-drain'`))[0]!.n;
      expect(rows).toBe(received * 50);
      await client.endAsync(true);
    } finally {
      if (!stopped) await t.broker.stop();
      await t.database.close();
    }
  });
});
