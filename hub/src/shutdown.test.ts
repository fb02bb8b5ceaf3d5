import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { AckSchema, deviceTopic, newBatchId } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAdminFile } from './api/admin/admin-file.js';
import { ackCollector, connectDevice, eventually, memoryLogger, sleep } from './broker/testing/harness.js';
import { HubConfigSchema } from './config/schema.js';
import { openDatabase, type HubDatabase } from './db/client.js';
import { execRows } from './db/rows.js';
import { testLogger } from './db/testing/databases.js';
import { createHub } from './main.js';
import { batchPayload, makeEvents } from './services/testing/fixtures.js';

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

describe('hub stop (SIGTERM) with batches in flight', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'rw-stop-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops taking new work, acks the MQTT and HTTPS batches in flight, stores them, then closes', async () => {
    const { logger, lines } = memoryLogger();
    const registry = new Registry();
    let database: HubDatabase | null = null;
    const config = HubConfigSchema.parse({ dataDir, host: '127.0.0.1', httpPort: 0, mqttPort: 0, alarms: { timerS: 3600 } });
    const hub = createHub(config, { logger, registry, openDatabase: async (options) => (database = await openDatabase(options)) });
    const { httpPort, mqttPort } = await hub.start();
    const base = `http://127.0.0.1:${httpPort}`;
    // One metric only: a full scrape would also wait for the database gauges, which the test holds locked.
    const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value ?? 0;

    let release: () => void = () => undefined;
    let stopped = false;
    try {
      const admin = readAdminFile(dataDir)!;
      const added = await fetch(`${admin.url}/admin/v1/devices`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ deviceId: 'veh-1' }),
      });
      const { secret } = (await added.json()) as { secret: string };
      const client = await connectDevice(`mqtt://127.0.0.1:${mqttPort}`, 'veh-1', secret);
      const acks = await ackCollector(client, 'veh-1');

      // Hold the (single-connection) embedded database in a transaction: every hub query waits behind it.
      const pglite = (database!.db as unknown as { $client: PGlite }).$client;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let locked: () => void = () => undefined;
      const isLocked = new Promise<void>((resolve) => (locked = resolve));
      const held = pglite.transaction(async () => {
        locked();
        await gate;
      });
      await isLocked;

      // One batch in flight over MQTT: admitted and waiting for the database.
      const mqttEvents = makeEvents(3);
      const mqttBatch = newBatchId();
      await client.publishAsync(deviceTopic('veh-1', 'events'), batchPayload('veh-1', mqttEvents, mqttBatch), { qos: 1 });
      await eventually(async () => (await gauge('roadwatch_hub_mqtt_ingest_in_flight')) === 1, 'the MQTT batch to be in flight');
      // One batch in flight over HTTPS: the request is being served (waiting for the database).
      const httpEvents = makeEvents(2);
      const httpBatch = newBatchId();
      const httpResponse = fetch(`${base}/api/v1/devices/veh-1/events`, {
        method: 'POST',
        headers: { Authorization: basic('veh-1', secret), 'Content-Type': 'application/json' },
        body: batchPayload('veh-1', httpEvents, httpBatch),
      });
      await eventually(async () => (await gauge('roadwatch_hub_http_requests_in_flight')) === 1, 'the HTTPS batch to be in flight');

      // SIGTERM → serve calls stop(): it must wait for both batches.
      const stopping = hub.stop().then(() => (stopped = true));
      await sleep(300);
      expect(stopped).toBe(false);
      // No new connections meanwhile.
      await expect(fetch(`${base}/health`)).rejects.toThrow();

      release();
      await held;
      const mqttAck = await acks.waitFor(mqttBatch);
      expect(new Set(mqttAck.stored)).toEqual(new Set(mqttEvents.map((e) => e.eventId)));
      const res = await httpResponse;
      expect(res.status).toBe(200);
      const httpAck = AckSchema.parse(await res.json());
      expect(httpAck).toMatchObject({ batchId: httpBatch, duplicates: 0, rejected: [] });
      expect(new Set(httpAck.stored)).toEqual(new Set(httpEvents.map((e) => e.eventId)));
      await stopping;
      await client.endAsync().catch(() => undefined);
    } finally {
      release();
      if (!stopped) await hub.stop();
    }
    expect(lines.some((l) => l.msg === 'hub stopped')).toBe(true);

    // Both batches are in the database the hub closed.
    const reopened = await openDatabase({ dataDir, logger: testLogger() });
    try {
      const rows = await execRows<{ n: number }>(reopened.db, sql`select count(*)::int as n from detections where device_id = 'veh-1'`);
      expect(rows[0]!.n).toBe(5);
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
