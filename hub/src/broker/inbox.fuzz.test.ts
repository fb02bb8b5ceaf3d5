import { BatchEnvelopeSchema, deviceTopic, EventSchema, newBatchId, type Ack } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failOnUnhandledErrors, fuzzParams, fuzzTimeout } from '../../../test/support/fuzz.js';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases } from '../db/testing/databases.js';
import { createServices, type Services } from '../services/index.js';
import { checkEnvelope, checkEvent, toPgText } from '../services/ingest-validate.js';
import type { IngestOutcome } from '../services/ports.js';
import {
  batchEnvelope,
  batchPlan,
  buildPayload,
  idTable,
  MUTATED_PLAN,
  statusPlan,
  VALID_PLAN,
  type BatchPlan,
  type PayloadPlan,
  type StatusPlan,
} from '../services/testing/fuzz-payloads.js';
import { DeviceInbox } from './device-inbox.js';
import { createBrokerMetrics } from './metrics.js';
import { ackCollector, connectDevice, eventually, memoryLogger, startTestBroker, type TestBroker } from './testing/harness.js';

/**
 * Fuzzing what devices send the hub (docs/TESTING.md "Fuzzing"): batch envelopes on
 * `roadwatch/v1/devices/{id}/events` and status messages, made from valid ones by JSON and text
 * mutations (services/testing/fuzz-payloads.ts), with valid batches mixed in.
 *
 * 1. the envelope and event checks alone (pure), many thousands of payloads;
 * 2. DeviceInbox — the one path from a device's publish to the services, whichever broker delivered
 *    it — over the real services and a real database, without a socket in between;
 * 3. the embedded aedes broker as `roadwatch-hub serve` runs it, with real MQTT clients over TCP.
 *
 * Properties: nothing throws or rejects unhandled; every payload is accounted for (acked,
 * quarantined and counted, or dropped as oversized and counted); what the ingest reports matches
 * the rows in the database; no ingest or status write fails; every valid event is stored exactly
 * once and acked, whatever came before or after it; a device's state is that of its last valid status.
 */

failOnUnhandledErrors();

/** Real Postgres when ROADWATCH_TEST_DATABASE_URL is set, else PGlite; one database for the whole file (opening one costs seconds). */
const testDb = testDatabases().at(-1)!;
let database: HubDatabase;
beforeAll(async () => {
  database = await testDb.open();
});
afterAll(async () => {
  await database?.close();
});
const DEVICES = ['veh-f0', 'veh-f1', 'veh-f2'] as const;
const SLOTS = 12;
const MAX_PAYLOAD = 64 * 1024;

const maybeMutated = fc.oneof({ weight: 1, arbitrary: fc.constant(VALID_PLAN) }, { weight: 3, arbitrary: MUTATED_PLAN });

type Message = { kind: 'batch'; device: number; batch: BatchPlan } | { kind: 'status'; device: number; status: StatusPlan };

const MESSAGE: fc.Arbitrary<Message> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('batch' as const), device: fc.nat(DEVICES.length - 1), batch: batchPlan(SLOTS, maybeMutated) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('status' as const), device: fc.nat(DEVICES.length - 1), status: statusPlan(maybeMutated) }) },
);

const isValid = (plan: PayloadPlan) => plan.json.length === 0 && plan.text.length === 0;

/** One run's messages as payloads; ids fresh for the run. `deviceId` may be spoiled in the envelope by a mutation (device_mismatch). */
function materialize(messages: Message[]) {
  const ids = idTable(SLOTS);
  return messages.map((m) => {
    const deviceId = DEVICES[m.device]!;
    if (m.kind === 'status') return { ...m, deviceId, payload: buildPayload(m.status.status, m.status.plan), valid: isValid(m.status.plan), batchId: null, eventIds: [] as string[] };
    const batchId = newBatchId();
    const envelope = batchEnvelope(deviceId, m.batch, ids, batchId);
    return { ...m, deviceId, payload: buildPayload(envelope, m.batch.plan), valid: isValid(m.batch.plan), batchId, eventIds: envelope.events.map((e) => (e as { eventId: string }).eventId) };
  });
}

const rowsFor = async (db: HubDatabase, table: 'detections' | 'quarantine') => (await execRows<{ n: number }>(db.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n;
const storedTimes = async (db: HubDatabase, eventIds: string[]) => {
  if (eventIds.length === 0) return new Map<string, number>();
  const rows = await execRows<{ event_id: string; n: number }>(
    db.db,
    sql`select event_id, count(*)::int as n from detections where event_id in (${sql.join(eventIds.map((id) => sql`${id}`), sql`, `)}) group by event_id`,
  );
  return new Map(rows.map((r) => [r.event_id, r.n]));
};
const deviceState = async (db: HubDatabase, deviceId: string) =>
  (await execRows<{ state: string }>(db.db, sql`select state from device_status where device_id = ${deviceId}`))[0]?.state ?? null;

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((sum, v) => sum + v.value, 0);
}

describe('envelope and event checks (pure)', () => {
  it(
    'never throw; a verdict always names its reason and only valid ids; an accepted event passes the schema again',
    () => {
      const CASE = fc.tuple(batchPlan(SLOTS, maybeMutated), fc.constantFrom(...DEVICES), fc.constantFrom(...DEVICES));
      fc.assert(
        fc.property(CASE, ([batch, sender, topic]) => {
          const text = buildPayload(batchEnvelope(sender, batch, idTable(SLOTS)), batch.plan);
          const checked = checkEnvelope(topic, text);
          if (!checked.ok) {
            expect(checked.reason.length).toBeGreaterThan(0);
            expect(toPgText(checked.reason)).not.toMatch(/\u0000/);
            if (checked.batchId !== null) expect(checked.batchId).toMatch(/^[0-9a-f-]{36}$/i);
            if (isValid(batch.plan)) expect(checked.kind).toBe('device_mismatch');
            return;
          }
          expect(checked.envelope.deviceId).toBe(topic);
          expect(BatchEnvelopeSchema.safeParse(checked.envelope).success).toBe(true);
          for (const raw of checked.envelope.events) {
            const event = checkEvent(raw);
            if (event.ok) {
              expect(EventSchema.safeParse(event.event).success).toBe(true);
              expect(new Date(event.event.ts).toISOString()).toBe(event.event.ts);
              expect(event.event.class).not.toMatch(/\u0000/);
            } else {
              expect(event.reason.length).toBeGreaterThan(0);
              if (event.seq !== null) expect(Number.isSafeInteger(event.seq)).toBe(true);
              if (event.eventId !== null) expect(event.eventId.length).toBeLessThanOrEqual(64);
            }
          }
          if (isValid(batch.plan) && sender === topic) expect(checked.envelope.events.every((e) => checkEvent(e).ok)).toBe(true);
        }),
        fuzzParams(5000),
      );
    },
    fuzzTimeout(30_000),
  );
});

describe('DeviceInbox over the real services (no socket)', () => {
  let services: Services;
  let registry: Registry;
  let inbox: DeviceInbox;
  const memory = memoryLogger();
  const acks: Ack[] = [];
  const outcomes: IngestOutcome[] = [];
  const statusResults: Array<{ deviceId: string; ok: boolean; state: unknown }> = [];

  beforeAll(async () => {
    registry = new Registry();
    const logger = memory.logger;
    services = createServices({ database, logger, registry, hotspotDelayMs: 0 });
    const ingest = {
      ingest: async (...args: Parameters<Services['ingest']['ingest']>) => {
        const outcome = await services.ingest.ingest(...args);
        outcomes.push(outcome);
        return outcome;
      },
    };
    const status = {
      record: async (deviceId: string, payload: Uint8Array | string) => {
        const ok = await services.status.record(deviceId, payload);
        statusResults.push({ deviceId, ok, state: ok ? (JSON.parse(new TextDecoder().decode(Buffer.from(payload))) as { state: unknown }).state : null });
        return ok;
      },
    };
    inbox = new DeviceInbox({
      services: { ingest, status },
      publishAck: async (_deviceId, ack) => void acks.push(ack),
      maxPayloadBytes: MAX_PAYLOAD,
      concurrency: 4,
      logger,
      metrics: createBrokerMetrics(registry),
    });
  });
  afterAll(async () => {
    await services?.alarmRules.idle();
  });

  it(
    'every payload accounted for, the database agrees with the acks, valid events stored exactly once',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(MESSAGE, { minLength: 1, maxLength: 6 }), async (messages) => {
          const sent = materialize(messages);
          acks.length = 0;
          outcomes.length = 0;
          statusResults.length = 0;
          memory.lines.length = 0;
          const before = {
            detections: await rowsFor(database, 'detections'),
            quarantine: await rowsFor(database, 'quarantine'),
            acked: await metric(registry, 'roadwatch_hub_mqtt_batches_total', { result: 'acked' }),
            unackable: await metric(registry, 'roadwatch_hub_mqtt_batches_total', { result: 'unackable' }),
            oversized: await metric(registry, 'roadwatch_hub_mqtt_dropped_total', { reason: 'oversized' }),
            statusOk: await metric(registry, 'roadwatch_hub_mqtt_status_total', { result: 'recorded' }),
            statusInvalid: await metric(registry, 'roadwatch_hub_mqtt_status_total', { result: 'invalid' }),
            errors: await metric(registry, 'roadwatch_hub_mqtt_batches_total', { result: 'error' }),
            statusErrors: await metric(registry, 'roadwatch_hub_mqtt_status_total', { result: 'error' }),
          };
          for (const m of sent) await inbox.accept(m.deviceId, m.kind === 'batch' ? 'events' : 'status', Buffer.from(m.payload, 'utf8'));
          await inbox.drain();

          // Nothing failed: an ingest or status error here is a payload the hub could not handle.
          expect(memory.lines.filter((l) => l.level >= 50)).toEqual([]);
          expect(await metric(registry, 'roadwatch_hub_mqtt_batches_total', { result: 'error' })).toBe(before.errors);
          expect(await metric(registry, 'roadwatch_hub_mqtt_status_total', { result: 'error' })).toBe(before.statusErrors);

          // Every payload has exactly one outcome, and the counters say which.
          const batches = sent.filter((m) => m.kind === 'batch');
          const statuses = sent.filter((m) => m.kind === 'status');
          const fits = (m: (typeof sent)[number]) => Buffer.byteLength(m.payload) <= MAX_PAYLOAD;
          const delta = async (name: string, labels: Record<string, string>, was: number) => (await metric(registry, name, labels)) - was;
          const acked = await delta('roadwatch_hub_mqtt_batches_total', { result: 'acked' }, before.acked);
          const unackable = await delta('roadwatch_hub_mqtt_batches_total', { result: 'unackable' }, before.unackable);
          expect(acked + unackable).toBe(batches.filter(fits).length);
          expect(await delta('roadwatch_hub_mqtt_dropped_total', { reason: 'oversized' }, before.oversized)).toBe(sent.filter((m) => !fits(m)).length);
          expect(outcomes.length).toBe(acked + unackable);
          expect(outcomes.filter((o) => o.ack === null).length).toBe(unackable);
          expect(acks.length).toBe(acked);
          expect(statusResults.length).toBe(statuses.filter(fits).length);
          const recorded = await delta('roadwatch_hub_mqtt_status_total', { result: 'recorded' }, before.statusOk);
          const invalid = await delta('roadwatch_hub_mqtt_status_total', { result: 'invalid' }, before.statusInvalid);
          expect(recorded + invalid).toBe(statuses.length);
          expect(recorded).toBe(statusResults.filter((r) => r.ok).length);

          // The database agrees with what the ingest reported: rows stored, rows quarantined.
          const sum = (k: 'stored' | 'rejected') => outcomes.reduce((s, o) => s + o[k], 0);
          expect((await rowsFor(database, 'detections')) - before.detections).toBe(sum('stored'));
          expect((await rowsFor(database, 'quarantine')) - before.quarantine).toBe(sum('rejected'));
          for (const o of outcomes) {
            if (o.invalid) expect(o.ack === null || typeof o.ack.error === 'string').toBe(true);
            else expect(o.ack!.stored.length + o.ack!.duplicates + o.ack!.rejected.length).toBeGreaterThan(0);
          }

          // Valid batches: acked without error; each of their events stored exactly once. No event ever twice.
          const counts = await storedTimes(database, [...new Set(batches.flatMap((m) => m.eventIds))]);
          for (const m of batches) {
            if (!m.valid || Buffer.byteLength(m.payload) > MAX_PAYLOAD) continue;
            const ack = acks.find((a) => a.batchId === m.batchId);
            expect(ack, `ack for valid batch ${m.batchId}`).toBeDefined();
            expect(ack!.error).toBeUndefined();
            expect(ack!.rejected).toEqual([]);
            for (const id of m.eventIds) expect(counts.get(id), `valid event ${id} stored once`).toBe(1);
          }
          for (const n of counts.values()) expect(n).toBe(1);

          // A device's state is that of its last valid status (one device's statuses are recorded in order).
          for (const deviceId of DEVICES) {
            const last = statusResults.filter((r) => r.deviceId === deviceId && r.ok).at(-1);
            if (last) expect(await deviceState(database, deviceId)).toBe(last.state);
          }
        }),
        fuzzParams(400),
      );
    },
    fuzzTimeout(50_000),
  );
});

describe('embedded aedes broker over TCP', () => {
  const TCP_MAX = 64 * 1024;
  let t: TestBroker;
  const secrets: Record<string, string> = {};
  const clients = new Map<string, MqttClient>();
  const collectors = new Map<string, Awaited<ReturnType<typeof ackCollector>>>();

  beforeAll(async () => {
    t = await startTestBroker(testDb, { maxPayloadBytes: TCP_MAX, ingestConcurrency: 2 }, database);
    for (const id of DEVICES) {
      secrets[id] = (await t.services.devices.add(id)).secret;
      const client = await connectDevice(t.url, id, secrets[id]!);
      clients.set(id, client);
      collectors.set(id, await ackCollector(client, id));
    }
  });
  afterAll(async () => {
    await Promise.all([...clients.values()].map((c) => c.endAsync(true).catch(() => undefined)));
    await t?.broker.stop();
    await t?.services.alarmRules.idle();
  });

  it(
    'mutated batches and statuses over MQTT: the hub stays up and connected, valid batches are acked and stored exactly once',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(MESSAGE, { minLength: 1, maxLength: 4 }), async (messages) => {
          const sent = materialize(messages).map((m) => ({
            ...m,
            // Far past the limit the broker closes the connection at the frame header (broker.test.ts covers that); stay within the frame allowance.
            payload: Buffer.from(m.payload, 'utf8').subarray(0, TCP_MAX + 2048),
          }));
          for (const m of sent) {
            const client = clients.get(m.deviceId)!;
            await client.publishAsync(deviceTopic(m.deviceId, m.kind === 'batch' ? 'events' : 'status'), m.payload, { qos: 1 });
          }
          for (const m of sent) {
            if (m.kind !== 'batch' || !m.valid || m.payload.length > TCP_MAX) continue;
            const ack = await collectors.get(m.deviceId)!.waitFor(m.batchId!);
            expect(ack.error).toBeUndefined();
            expect(ack.rejected).toEqual([]);
            const counts = await storedTimes(t.database, m.eventIds);
            for (const id of m.eventIds) expect(counts.get(id), `valid event ${id} stored once`).toBe(1);
          }
          for (const client of clients.values()) expect(client.connected).toBe(true);
          expect(t.broker.ready).toBe(true);
        }),
        fuzzParams(300),
      );
      // Everything admitted settles, nothing failed, and every payload was counted.
      await eventually(async () => (await t.metric('roadwatch_hub_mqtt_ingest_in_flight')) === 0, 'ingests settled');
      expect(await t.metric('roadwatch_hub_mqtt_batches_total', { result: 'error' })).toBe(0);
      expect(await t.metric('roadwatch_hub_mqtt_status_total', { result: 'error' })).toBe(0);
      expect(t.lines.filter((l) => l.level >= 50)).toEqual([]);
    },
    fuzzTimeout(55_000),
  );
});
