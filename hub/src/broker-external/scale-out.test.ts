import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckSchema, deviceTopic, newBatchId, UserError, type Ack } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, memoryLogger, sleep, type LogLine } from '../broker/testing/harness.js';
import { HubConfigSchema } from '../config/schema.js';
import { openDatabase, type HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger, type TestHubDatabase } from '../db/testing/databases.js';
import { createHub, type Hub } from '../main.js';
import { createServices } from '../services/index.js';
import type { BatchIngest } from '../services/ports.js';
import { batchPayload, makeEvents } from '../services/testing/fixtures.js';
import { newSecret } from '../services/secrets.js';
import { removeMosquittoUser, setMosquittoPassword } from '../cli/mosquitto-passwd.js';
import { ExternalBroker } from './index.js';
import { findMosquitto, startMosquitto, type TestMosquitto } from './testing/mosquitto.js';

const MOSQUITTO = findMosquitto();
if (!MOSQUITTO) {
  const message = 'scale-out tests need the mosquitto binary (apt-get install mosquitto)';
  if (process.env.CI === 'true') throw new Error(`${message}; .ci/run installs it`);
  console.warn(`skipping the scale-out tests: ${message}`);
}
/** Postgres when ROADWATCH_TEST_DATABASE_URL is set (each replica its own pool), else one shared PGlite. */
const DATABASE = MOSQUITTO ? (testDatabases().find((d) => d.name === 'postgres') ?? testDatabases()[0]!) : null;
const HUB_USER = 'roadwatch-hub';
const DEVICES = ['veh-1', 'veh-2', 'veh-3'] as const;

interface Replica {
  name: string;
  hub: Hub;
  httpPort: number;
  lines: LogLine[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** A vehicle as the agent connects (MQTT 3.1.1, QoS 1) that counts every ack it receives, by batch id. */
async function connectVehicle(url: string, deviceId: string, secret: string, options: IClientOptions = {}) {
  const client = await mqtt.connectAsync(url, { clientId: deviceId, username: deviceId, password: secret, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  const received: Array<{ topic: string; ack: Ack }> = [];
  client.on('message', (topic, payload) => received.push({ topic, ack: AckSchema.parse(JSON.parse(payload.toString('utf8'))) }));
  const granted = await client.subscribeAsync(deviceTopic(deviceId, 'acks'), { qos: 1 });
  expect(granted[0]?.qos).toBe(1);
  return {
    client,
    received,
    acksFor: (batchId: string) => received.filter((r) => r.ack.batchId === batchId),
    async publishBatch(events = makeEvents(3), batchId = newBatchId()) {
      await client.publishAsync(deviceTopic(deviceId, 'events'), batchPayload(deviceId, events, batchId), { qos: 1 });
      return { batchId, events };
    },
  };
}

describe.skipIf(!MOSQUITTO)(`scale-out: hub replicas on Mosquitto (${DATABASE?.name ?? 'no database'})`, () => {
  let broker: TestMosquitto;
  let database: TestHubDatabase;
  const hubPassword = newSecret();
  const secrets: Record<string, string> = {};
  const dirs: string[] = [];
  const running = new Set<Replica>();
  const clients: MqttClient[] = [];

  const countStored = async (eventIds: string[]) =>
    (await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections where event_id in (${sql.join(eventIds.map((id) => sql`${id}`), sql`, `)})`))[0]!.n;
  const storedTimes = async (eventId: string) => (await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections where event_id = ${eventId}`))[0]!.n;
  const vehicle = async (deviceId: string, options: IClientOptions = {}) => {
    const v = await connectVehicle(broker.deviceUrl, deviceId, secrets[deviceId]!, options);
    clients.push(v.client);
    return v;
  };

  /** One hub replica (createHub, as `roadwatch-hub serve` runs it) on the shared database, in scale-out mode. */
  const startReplica = async (name: string, mqttOverrides: Record<string, unknown> = {}): Promise<Replica> => {
    const dataDir = mkdtempSync(join(tmpdir(), `rw-replica-${name}-`));
    dirs.push(dataDir);
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    const config = HubConfigSchema.parse({
      dataDir,
      host: '127.0.0.1',
      httpPort: 0,
      mqtt: { url: broker.hubUrl, username: HUB_USER, password: hubPassword, clientId: `hub-${name}`, ingestConcurrency: 4, ...mqttOverrides },
    });
    const shared: HubDatabase = { ...database, close: async () => undefined };
    const hub = createHub(config, {
      logger,
      registry,
      openDatabase: database.url ? (o) => openDatabase({ ...o, databaseUrl: database.url!, poolSize: 4 }) : async () => shared,
    });
    const { httpPort, mqttPort } = await hub.start();
    expect(mqttPort).toBe(0);
    const replica: Replica = {
      name,
      hub,
      httpPort,
      lines,
      async metric(metricName, labels = {}) {
        const m = (await registry.getMetricsAsJSON()).find((x) => x.name === metricName);
        return (m?.values ?? []).filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
      },
      async stop() {
        running.delete(replica);
        await hub.stop();
      },
    };
    running.add(replica);
    return replica;
  };
  /** Ends a replica's session on the broker now (a clean start discards it) instead of waiting for its expiry. */
  const forgetSession = async (clientId: string) => {
    const c = await mqtt.connectAsync(broker.hubUrl, { clientId, username: HUB_USER, password: hubPassword, protocolVersion: 5, clean: true, reconnectPeriod: 0 });
    await c.endAsync();
  };
  const acked = (r: Replica) => r.metric('roadwatch_hub_mqtt_batches_total', { result: 'acked' });

  beforeAll(async () => {
    database = await DATABASE!.open();
    // Registered with the hub and written to the broker's password file with the same secret, as
    // `devices add <id> --mosquitto-passwd FILE` does (the hub's copy serves the HTTPS uplink and `devices list`).
    const services = createServices({ database, logger: testLogger() });
    for (const id of DEVICES) secrets[id] = (await services.devices.add(id)).secret;
    broker = await startMosquitto(MOSQUITTO!, { [HUB_USER]: hubPassword, ...secrets });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    for (const replica of [...running]) await replica.stop().catch(() => undefined);
    await database?.close();
    await broker?.dispose();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('a replica that dies between taking a batch and committing it loses that copy; the resent events are stored once by another', async () => {
    // Replica "crash" takes the batch (its ingest never finishes) and dies without a word: the broker
    // already has its PUBACK, so the batch is not delivered again. The vehicle, which got no ack,
    // sends the same events again (the agent does so after uplink.ackTimeoutMs) and they are stored once.
    const { logger } = memoryLogger();
    let taken = 0;
    const stuck: BatchIngest = {
      ingest: () => {
        taken++;
        return new Promise(() => undefined);
      },
    };
    const crashClients: MqttClient[] = [];
    const crash = new ExternalBroker({
      config: { mqtt: HubConfigSchema.parse({ mqtt: { url: broker.hubUrl, username: HUB_USER, password: hubPassword, clientId: 'hub-crash', sessionExpiryS: 1 } }).mqtt },
      services: { ingest: stuck, status: { record: async () => true } },
      logger,
      registry: new Registry(),
      connect: (url, options) => {
        const client = mqtt.connect(url, options);
        crashClients.push(client);
        return client;
      },
    });
    await crash.start();
    expect(crash.ready).toBe(true);
    const v = await vehicle('veh-3');
    const events = makeEvents(4);
    const first = await v.publishBatch(events);
    await eventually(() => taken === 1, 'the crashing replica took the batch');
    for (const client of crashClients) client.end(true); // the process dies: no DISCONNECT
    await forgetSession('hub-crash'); // … and its session expires (Mosquitto checks expiry about once a second: not waited for)

    const survivor = await startReplica('survivor', { sessionExpiryS: 1 });
    await sleep(300);
    expect(v.acksFor(first.batchId)).toHaveLength(0); // not redelivered: acknowledged to the broker, never committed
    const resent = await v.publishBatch(events); // same event ids, new batch id: what the agent sends after its ack timeout
    await eventually(() => v.acksFor(resent.batchId).length === 1, 'ack of the resent batch');
    expect(v.acksFor(resent.batchId)[0]!.ack.stored).toHaveLength(4);
    for (const e of events) expect(await storedTimes(e.eventId)).toBe(1);
    await survivor.stop();
    await forgetSession('hub-survivor'); // it takes no share of later tests' batches
  }, 60_000);

  it('acks are confirmed while the batches behind them wait for an ingest slot (they have their own connection)', async () => {
    // Two slots: the first batch finishes after 300 ms, every later one never does, so the replica's consumer
    // connection stalls on a PUBLISH waiting for a slot. The broker's PUBACK for the first ack arrives behind
    // that PUBLISH: read on the same connection it would never be seen (the shift-change herd stall).
    const { logger, lines } = memoryLogger();
    let taken = 0;
    const slow: BatchIngest = {
      ingest: (_deviceId, payload) => {
        taken++;
        if (taken > 1) return new Promise(() => undefined);
        const { batchId } = JSON.parse(String(payload)) as { batchId: string };
        return sleep(300).then(() => ({ ack: { v: 1, batchId, stored: [], duplicates: 0, rejected: [] }, stored: 0, duplicates: 0, rejected: 0 }));
      },
    };
    const clientsOfReplica: MqttClient[] = [];
    const replica = new ExternalBroker({
      config: { mqtt: HubConfigSchema.parse({ mqtt: { url: broker.hubUrl, username: HUB_USER, password: hubPassword, clientId: 'hub-hol', sessionExpiryS: 1, ingestConcurrency: 2 } }).mqtt },
      services: { ingest: slow, status: { record: async () => true } },
      logger,
      registry: new Registry(),
      ackConfirmTimeoutMs: 1_500,
      connect: (url, options) => {
        const client = mqtt.connect(url, options);
        clientsOfReplica.push(client);
        return client;
      },
    });
    await replica.start();
    expect(clientsOfReplica.map((c) => c.options.clientId)).toEqual(['hub-hol-acks', 'hub-hol']);
    const v = await vehicle('veh-3');
    const first = await v.publishBatch();
    for (let i = 0; i < 4; i++) await v.publishBatch();
    await eventually(() => v.acksFor(first.batchId).length === 1, 'the first ack reaches the vehicle');
    await eventually(() => taken >= 3, 'the next batches are taken');
    await sleep(2_500);
    expect(lines.filter((l: LogLine) => l.msg === 'could not publish ack')).toEqual([]);
    for (const client of clientsOfReplica) client.end(true);
    await forgetSession('hub-hol'); // later tests' batches go to their own replicas, not to its stalled session
  }, 30_000);

  it('a device provisioned while the broker runs gets in after a reload; a removed one is disconnected', async () => {
    const secret = newSecret();
    setMosquittoPassword(broker.passwdFile, 'veh-late', secret); // what devices add --mosquitto-passwd writes
    broker.reload();
    await eventually(async () => {
      const c = await mqtt.connectAsync(broker.deviceUrl, { username: 'veh-late', password: secret, protocolVersion: 4, reconnectPeriod: 0 }, false).catch(() => null);
      if (c) clients.push(c);
      return c !== null;
    }, 'veh-late connects after SIGHUP');
    const late = clients.at(-1)!;
    removeMosquittoUser(broker.passwdFile, 'veh-late'); // what devices revoke --mosquitto-passwd does
    broker.reload();
    await eventually(() => !late.connected, 'veh-late disconnected after SIGHUP');
    await expect(mqtt.connectAsync(broker.deviceUrl, { username: 'veh-late', password: secret, protocolVersion: 4, reconnectPeriod: 0 }, false)).rejects.toMatchObject({ code: 5 });
  });

  it('a replica whose broker is unreachable starts not ready, says why, and keeps retrying', async () => {
    const { logger, lines } = memoryLogger();
    const unreachable = new ExternalBroker({
      config: { mqtt: HubConfigSchema.parse({ mqtt: { url: 'mqtt://127.0.0.1:1', username: HUB_USER, password: hubPassword, clientId: 'hub-nowhere' } }).mqtt },
      services: { ingest: { ingest: async () => ({ ack: null, stored: 0, duplicates: 0, rejected: 0 }) }, status: { record: async () => true } },
      logger,
      registry: new Registry(),
      startWaitMs: 300,
    });
    await unreachable.start();
    try {
      expect(unreachable.ready).toBe(false);
      expect(lines.some((l) => l.level === 40 && /^cannot reach the external MQTT broker mqtt:\/\/127\.0\.0\.1:1 \(ECONNREFUSED: .*\) — start it or fix ROADWATCH_HUB_MQTT_URL; retrying every 2 s$/.test(l.msg))).toBe(true);
      expect(lines.some((l) => l.msg.startsWith('external MQTT broker not reachable yet; the hub runs not ready'))).toBe(true);
    } finally {
      await unreachable.stop();
    }
  });

  describe('two replicas', () => {
    let a: Replica;
    let b: Replica;
    beforeAll(async () => {
      [a, b] = await Promise.all([startReplica('a'), startReplica('b')]);
    }, 60_000);

    it('share the batches: each is stored once and acked once to its own vehicle, and each replica ingests some', async () => {
      const [v1, v2] = await Promise.all([vehicle('veh-1'), vehicle('veh-2')]);
      const perDevice = 20;
      const sent = { 'veh-1': [] as Array<{ batchId: string; events: ReturnType<typeof makeEvents> }>, 'veh-2': [] as Array<{ batchId: string; events: ReturnType<typeof makeEvents> }> };
      for (let i = 0; i < perDevice; i++) {
        sent['veh-1'].push(await v1.publishBatch());
        sent['veh-2'].push(await v2.publishBatch());
      }
      await eventually(() => v1.received.length >= perDevice && v2.received.length >= perDevice, 'every ack', 30_000);
      await sleep(300); // a second ack would arrive by now
      for (const [deviceId, v] of [['veh-1', v1], ['veh-2', v2]] as const) {
        expect(v.received).toHaveLength(perDevice);
        expect(v.received.every((r) => r.topic === deviceTopic(deviceId, 'acks'))).toBe(true);
        for (const { batchId, events } of sent[deviceId]) {
          const acks = v.acksFor(batchId);
          expect(acks, `${deviceId} batch ${batchId}`).toHaveLength(1);
          expect(new Set(acks[0]!.ack.stored)).toEqual(new Set(events.map((e) => e.eventId)));
        }
      }
      const eventIds = [...sent['veh-1'], ...sent['veh-2']].flatMap((s) => s.events.map((e) => e.eventId));
      expect(await countStored(eventIds)).toBe(eventIds.length);
      for (const id of eventIds.slice(0, 10)) expect(await storedTimes(id)).toBe(1);
      const [byA, byB] = [await acked(a), await acked(b)];
      expect(byA + byB).toBe(2 * perDevice);
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);

      // Statuses go through the shared subscription too.
      await v1.client.publishAsync(deviceTopic('veh-1', 'status'), JSON.stringify({ v: 1, state: 'online', queueDepth: 0 }), { qos: 1, retain: true });
      const state = async () => (await createServices({ database, logger: testLogger() }).devices.list()).find((d) => d.deviceId === 'veh-1')?.state;
      await eventually(async () => (await state()) === 'online', 'veh-1 online');
    }, 60_000);

    it('the broker keeps each vehicle to its own topics', async () => {
      const v1 = await vehicle('veh-1');
      const before = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections where device_id = 'veh-1'`);

      // Over MQTT 5 the broker says no (PUBACK 0x87): to another vehicle's batches, acks (a forged ack) and status.
      const spoofed = makeEvents(2);
      const v2v5 = await mqtt.connectAsync(broker.deviceUrl, { clientId: 'veh-2', username: 'veh-2', password: secrets['veh-2'], protocolVersion: 5, reconnectPeriod: 0 });
      clients.push(v2v5);
      await expect(v2v5.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', spoofed), { qos: 1 })).rejects.toMatchObject({ code: 135 });
      await expect(v2v5.publishAsync(deviceTopic('veh-1', 'acks'), JSON.stringify({ v: 1, batchId: newBatchId(), stored: [], duplicates: 0, rejected: [] }), { qos: 1 })).rejects.toMatchObject({ code: 135 });
      await expect(v2v5.publishAsync(deviceTopic('veh-1', 'status'), '{"v":1,"state":"offline"}', { qos: 1 })).rejects.toMatchObject({ code: 135 });
      await v2v5.endAsync();

      // Over MQTT 3.1.1 (what the agent speaks) the publish is acknowledged and dropped.
      const v2 = await vehicle('veh-2');
      await v2.client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', spoofed), { qos: 1 });

      // Reading another vehicle's acks: Mosquitto grants the SUBSCRIBE but never delivers (it checks each message).
      await v2.client.subscribeAsync(deviceTopic('veh-1', 'acks'), { qos: 1 });
      const { batchId } = await v1.publishBatch();
      await eventually(() => v1.acksFor(batchId).length === 1, 'veh-1 ack');
      // A barrier: veh-2's own batch is acked after its spoofed one went (or not) through the broker.
      const own = await v2.publishBatch();
      await eventually(() => v2.acksFor(own.batchId).length === 1, 'veh-2 ack');
      await sleep(300);
      expect(v2.received.map((r) => r.topic)).toEqual([deviceTopic('veh-2', 'acks')]);
      expect(v1.received.map((r) => r.ack.batchId)).toEqual([batchId]);
      expect(await countStored(spoofed.map((e) => e.eventId))).toBe(0);
      const after = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections where device_id = 'veh-1'`);
      expect(after[0]!.n).toBe(before[0]!.n + 3);

      // Connecting with another vehicle's client id does not take over its session: the broker uses the user name.
      const impostor = await mqtt.connectAsync(broker.deviceUrl, { clientId: 'veh-1', username: 'veh-2', password: secrets['veh-2'], protocolVersion: 4, reconnectPeriod: 0 });
      clients.push(impostor);
      await sleep(200);
      expect(v1.client.connected).toBe(true);
    }, 60_000);

    it('refuses a wrong password, an unknown vehicle and a hub replica with the wrong password', async () => {
      const attempt = (username: string, password: string) =>
        mqtt.connectAsync(broker.deviceUrl, { clientId: username, username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000 }, false);
      await expect(attempt('veh-1', 'wrong-secret')).rejects.toMatchObject({ code: 5 });
      await expect(attempt('veh-404', secrets['veh-1']!)).rejects.toMatchObject({ code: 5 });
      await expect(attempt(HUB_USER, 'not-the-hub-password')).rejects.toMatchObject({ code: 5 });

      const dataDir = mkdtempSync(join(tmpdir(), 'rw-replica-bad-'));
      dirs.push(dataDir);
      const config = HubConfigSchema.parse({ dataDir, host: '127.0.0.1', httpPort: 0, mqtt: { url: broker.hubUrl, username: HUB_USER, password: 'wrong', clientId: 'hub-bad' } });
      const shared: HubDatabase = { ...database, close: async () => undefined };
      const hub = createHub(config, { logger: memoryLogger().logger, registry: new Registry(), openDatabase: async () => shared });
      const error = await hub.start().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as Error).message).toMatch(
        /^the external MQTT broker mqtt:\/\/127\.0\.0\.1:\d+ refused the hub's login as roadwatch-hub \(Not authorized, 0x87\) — set ROADWATCH_HUB_MQTT_USERNAME and ROADWATCH_HUB_MQTT_PASSWORD/,
      );
    }, 60_000);

    it('batches sent while the replicas are down wait in their sessions and are delivered when they come back', async () => {
      await Promise.all([a.stop(), b.stop()]);
      const v = await vehicle('veh-2');
      const sent = [];
      for (let i = 0; i < 10; i++) sent.push(await v.publishBatch());
      await sleep(500);
      expect(v.received).toHaveLength(0);

      [a, b] = await Promise.all([startReplica('a'), startReplica('b')]); // same client ids: the sessions resume
      await eventually(() => v.received.length >= sent.length, 'acks after the restart', 30_000);
      await sleep(300);
      for (const { batchId, events } of sent) {
        expect(v.acksFor(batchId)).toHaveLength(1);
        for (const e of events) expect(await storedTimes(e.eventId)).toBe(1);
      }
      expect((await acked(a)) + (await acked(b))).toBe(sent.length);
      expect(a.lines.find((l) => l.msg === 'connected to the external MQTT broker and subscribed')).toMatchObject({ sessionPresent: true });
    }, 60_000);

    it('/health/ready follows the broker connection; after a broker restart the replicas reconnect and ingest again', async () => {
      const ready = async (r: Replica) => {
        const res = await fetch(`http://127.0.0.1:${r.httpPort}/health/ready`);
        return { status: res.status, body: (await res.json()) as { checks: { db: boolean; broker: boolean } } };
      };
      expect(await ready(a)).toMatchObject({ status: 200, body: { checks: { db: true, broker: true } } });
      await broker.stop();
      await eventually(async () => (await ready(a)).status === 503 && (await ready(b)).status === 503, '503 while the broker is down');
      expect((await ready(a)).body.checks).toEqual({ db: true, broker: false });
      expect(await a.metric('roadwatch_hub_mqtt_broker_connected')).toBe(0);

      await broker.start();
      await eventually(async () => (await ready(a)).status === 200 && (await ready(b)).status === 200, 'ready again', 20_000);
      const v = await vehicle('veh-1');
      const { batchId, events } = await v.publishBatch();
      await eventually(() => v.acksFor(batchId).length === 1, 'ack after the broker restart');
      expect(await storedTimes(events[0]!.eventId)).toBe(1);
    }, 60_000);
  });
});
