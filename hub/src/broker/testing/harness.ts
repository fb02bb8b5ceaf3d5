import { Writable } from 'node:stream';
import { AckSchema, deviceTopic, type Ack } from '@roadwatch/shared';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { HubConfigSchema } from '../../config/schema.js';
import type { HubDatabase } from '../../db/client.js';
import type { TestDatabase } from '../../db/testing/databases.js';
import { createServices, type Services } from '../../services/index.js';
import { MqttBroker } from '../index.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A pino logger whose lines are kept in memory for assertions. */
export function memoryLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) if (text) lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export interface TestBroker {
  broker: MqttBroker;
  port: number;
  services: Services;
  database: HubDatabase;
  registry: Registry;
  lines: LogLine[];
  url: string;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Stops the broker (idempotent) and closes the database. */
  close(): Promise<void>;
}

export async function startTestBroker(
  testDb: TestDatabase,
  mqttConfig: Record<string, unknown> = {},
  database?: HubDatabase,
): Promise<TestBroker> {
  const db = database ?? (await testDb.open());
  const { logger, lines } = memoryLogger();
  const registry = new Registry();
  const services = createServices({ database: db, logger, registry });
  const config = HubConfigSchema.parse({ host: '127.0.0.1', mqttPort: 0, mqtt: mqttConfig });
  const broker = new MqttBroker({ config, services, logger, registry });
  const { port } = await broker.start();
  const scheme = config.mqtt.tlsCertFile ? 'mqtts' : 'mqtt';
  return {
    broker,
    port,
    services,
    database: db,
    registry,
    lines,
    url: `${scheme}://127.0.0.1:${port}`,
    async metric(name, labels = {}) {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      const values = m?.values.filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)) ?? [];
      return values.reduce((sum, v) => sum + v.value, 0);
    },
    async close() {
      await broker.stop();
      await db.close();
    },
  };
}

/** Connects as a device (client id = username = device id); rejects on a refused CONNACK. */
export function connectDevice(url: string, deviceId: string, secret: string, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(
    url,
    { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0, connectTimeout: 5_000, clean: true, ...options },
    false,
  );
}

/** Subscribes to the device's acks and collects them by batch id. */
export async function ackCollector(client: MqttClient, deviceId: string) {
  const acks = new Map<string, Ack>();
  const waiters = new Map<string, (ack: Ack) => void>();
  client.on('message', (topic, payload) => {
    if (topic !== deviceTopic(deviceId, 'acks')) return;
    const ack = AckSchema.parse(JSON.parse(payload.toString('utf8')));
    acks.set(ack.batchId, ack);
    waiters.get(ack.batchId)?.(ack);
  });
  const granted = await client.subscribeAsync(deviceTopic(deviceId, 'acks'), { qos: 1 });
  if (granted[0]?.qos !== 1) throw new Error(`ack subscription refused: ${JSON.stringify(granted)}`);
  return {
    acks,
    waitFor(batchId: string, timeoutMs = 10_000): Promise<Ack> {
      const known = acks.get(batchId);
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for batch ${batchId} within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(batchId, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
      });
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the predicate holds (or fails the test after the timeout). */
export async function eventually(predicate: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
