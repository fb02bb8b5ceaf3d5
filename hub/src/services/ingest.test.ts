import { AckSchema, newBatchId, type RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { AlarmsConfigSchema } from '../config/schema.js';
import { aggregatesVersion } from './aggregates-sql.js';
import { AggregatesService } from './aggregates.js';
import { DeviceRegistryService } from './devices.js';
import { createServices, type Services } from './index.js';
import { IngestService } from './ingest.js';
import { batchPayload, makeEvent, makeEvents } from './testing/fixtures.js';
import { rollupSnapshot } from './testing/rollups.js';

describe.each(testDatabases())('IngestService on $name', ({ open }) => {
  let database: HubDatabase;
  let registry: Registry;
  let ingest: IngestService;

  beforeAll(async () => {
    database = await open();
    await new DeviceRegistryService({ db: database.db, logger: testLogger() }).add('veh-1');
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate detections, quarantine restart identity`);
    registry = new Registry();
    ingest = new IngestService({ db: database.db, logger: testLogger(), registry });
  });

  const count = async (table: 'detections' | 'quarantine') =>
    (await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n;
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l));
    return v?.value ?? 0;
  };

  it('stores a valid batch and acks every event as stored', async () => {
    const events = makeEvents(3);
    const batchId = newBatchId();
    const out = await ingest.ingest('veh-1', batchPayload('veh-1', events, batchId), 'mqtt');
    expect(AckSchema.parse(out.ack)).toEqual({ v: 1, batchId, stored: expect.any(Array), duplicates: 0, rejected: [] });
    expect(new Set(out.ack!.stored)).toEqual(new Set(events.map((e) => e.eventId)));
    expect(out).toMatchObject({ stored: 3, duplicates: 0, rejected: 0 });
    expect(await count('detections')).toBe(3);
    expect(await metric('roadwatch_hub_events_stored_total')).toBe(3);
    expect(await metric('roadwatch_hub_batches_total', { channel: 'mqtt' })).toBe(1);

    const [row] = await execRows<Record<string, unknown>>(
      database.db,
      sql`select device_id, seq::int as seq, lat, class, bbox, frame_w, model, batch_id::text as batch_id from detections where event_id = ${events[0]!.eventId}`,
    );
    expect(row).toEqual({
      device_id: 'veh-1',
      seq: events[0]!.seq,
      lat: 52.37021,
      class: 'pothole',
      bbox: [412, 388, 530, 455],
      frame_w: 1280,
      model: 'road-damage-tiny@1',
      batch_id: batchId,
    });
    const [dev] = await execRows<{ seen: boolean }>(database.db, sql`select last_seen_at is not null as seen from devices where device_id = 'veh-1'`);
    expect(dev!.seen).toBe(true);
  });

  it('accepts bytes as well as strings, and optional fields left out', async () => {
    const { accuracyM, speedKmh, headingDeg, bbox, frame, model, ...bare } = makeEvent();
    void [accuracyM, speedKmh, headingDeg, bbox, frame, model];
    const out = await ingest.ingest('veh-1', new TextEncoder().encode(batchPayload('veh-1', [bare])), 'http');
    expect(out.stored).toBe(1);
    const [row] = await execRows<{ bbox: unknown; frame_w: unknown }>(database.db, sql`select bbox, frame_w from detections where event_id = ${bare.eventId}`);
    expect(row).toEqual({ bbox: null, frame_w: null });
  });

  it('stores a box with fractional coordinates exactly as sent', async () => {
    const event = { ...makeEvent(), bbox: [0.1, 0.30000000000000004, 1279.5, 719.125] as [number, number, number, number] };
    await ingest.ingest('veh-1', batchPayload('veh-1', [event]), 'mqtt');
    const [row] = await execRows<{ bbox: unknown }>(database.db, sql`select bbox from detections where event_id = ${event.eventId}`);
    expect(row!.bbox).toEqual([0.1, 0.30000000000000004, 1279.5, 719.125]);
  });

  it('dedupes the same batch twice, an event in two batches, and a repeat inside one batch', async () => {
    const events = makeEvents(4);
    const payload = batchPayload('veh-1', events);
    expect((await ingest.ingest('veh-1', payload, 'mqtt')).stored).toBe(4);
    const again = await ingest.ingest('veh-1', payload, 'mqtt');
    expect(again.ack).toMatchObject({ stored: [], duplicates: 4, rejected: [] });

    const fresh = makeEvent();
    const overlap = await ingest.ingest('veh-1', batchPayload('veh-1', [events[0]!, fresh]), 'mqtt');
    expect(overlap.ack).toMatchObject({ stored: [fresh.eventId], duplicates: 1 });

    const twin = makeEvent();
    const inner = await ingest.ingest('veh-1', batchPayload('veh-1', [twin, twin, twin]), 'mqtt');
    expect(inner.ack).toMatchObject({ stored: [twin.eventId], duplicates: 2 });

    expect(await count('detections')).toBe(6);
    expect(await metric('roadwatch_hub_events_duplicates_total')).toBe(7);
  });

  it('quarantines lat 95 while storing its neighbours, in the same ack', async () => {
    const [a, b, c] = [makeEvent(), makeEvent({ lat: 95 }), makeEvent()];
    const out = await ingest.ingest('veh-1', batchPayload('veh-1', [a, b, c]), 'mqtt');
    expect(new Set(out.ack!.stored)).toEqual(new Set([a.eventId, c.eventId]));
    expect(out.ack!.rejected).toEqual([{ seq: b.seq, eventId: b.eventId, reason: 'lat: lat out of range (−90…90)' }]);
    expect(await count('detections')).toBe(2);
    const [q] = await execRows<{ reason: string; event_id: string; seq: number; payload: string }>(
      database.db,
      sql`select reason, event_id, seq::int as seq, payload from quarantine`,
    );
    expect(q).toMatchObject({ reason: 'lat: lat out of range (−90…90)', event_id: b.eventId, seq: b.seq });
    expect(JSON.parse(q!.payload).lat).toBe(95);
    expect(await metric('roadwatch_hub_events_rejected_total', { reason: 'event' })).toBe(1);
  });

  it('quarantines events Postgres would refuse instead of failing the batch forever', async () => {
    const good = makeEvent();
    const nul = makeEvent({ class: 'pot\u0000hole' });
    const year0 = makeEvent({ ts: '0000-01-01T00:00:00Z' });
    const year1899 = makeEvent({ ts: '1899-12-31T23:59:59.999Z' }); // the agent's own form, one ms too early
    const offset = makeEvent({ ts: '2026-01-01T00:00:00+23:59' });
    const out = await ingest.ingest('veh-1', batchPayload('veh-1', [good, nul, year0, year1899, offset]), 'mqtt');
    expect(new Set(out.ack!.stored)).toEqual(new Set([good.eventId, offset.eventId]));
    expect(out.ack!.rejected.map((r) => r.eventId).sort()).toEqual([nul.eventId, year0.eventId, year1899.eventId].sort());
    expect(await count('quarantine')).toBe(3);
    const [stored] = await execRows<{ ts: string }>(database.db, sql`select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') as ts from detections where event_id = ${offset.eventId}`);
    expect(stored!.ts).toBe('2025-12-31T00:01:00.000'); // +23:59 folded to UTC
  });

  it('stores a valid event whose real-column values underflow float4 (found by fuzzing: it was refused and quarantined)', async () => {
    const tiny = makeEvent({ confidence: 5e-324, speedKmh: 1e-46, accuracyM: Number.MIN_VALUE, headingDeg: 1e-300 });
    const small = makeEvent({ confidence: 1e-40 }); // a float4 subnormal: Postgres takes it
    const out = await ingest.ingest('veh-1', batchPayload('veh-1', [tiny, small]), 'mqtt');
    expect(out.ack!.rejected).toEqual([]);
    expect(new Set(out.ack!.stored)).toEqual(new Set([tiny.eventId, small.eventId]));
    expect(await count('quarantine')).toBe(0);
    const [row] = await execRows<Record<string, unknown>>(database.db, sql`select confidence, speed_kmh, accuracy_m, heading_deg from detections where event_id = ${tiny.eventId}`);
    expect(row).toEqual({ confidence: 0, speed_kmh: 0, accuracy_m: 0, heading_deg: 0 });
  });

  it('quarantines malformed JSON: no ack without a batchId, an error ack when one is readable', async () => {
    const out = await ingest.ingest('veh-1', '{"v":1, nope', 'mqtt');
    expect(out).toEqual({ ack: null, stored: 0, duplicates: 0, rejected: 1, invalid: { kind: 'json', reason: expect.stringMatching(/^not valid JSON: /) } });
    const batchId = newBatchId();
    const truncated = batchPayload('veh-1', makeEvents(2), batchId).slice(0, 120);
    const out2 = await ingest.ingest('veh-1', truncated, 'mqtt');
    expect(out2.ack).toMatchObject({ batchId, stored: [], duplicates: 0, error: expect.stringMatching(/^not valid JSON: /) });
    const rows = await execRows<{ reason: string; payload: string }>(database.db, sql`select reason, payload from quarantine order by id`);
    expect(rows.map((r) => r.payload)).toEqual(['{"v":1, nope', truncated]);
    expect(rows[0]!.reason).toMatch(/^not valid JSON: /);
    expect(await metric('roadwatch_hub_events_rejected_total', { reason: 'json' })).toBe(2);
    expect(await count('detections')).toBe(0);
  });

  it('rejects a whole batch whose envelope is invalid or whose deviceId is not the topic', async () => {
    const batchId = newBatchId();
    const noVersion = JSON.stringify({ deviceId: 'veh-1', batchId, sentAt: new Date().toISOString(), events: [makeEvent()] });
    const out = await ingest.ingest('veh-1', noVersion, 'mqtt');
    expect(out.ack).toMatchObject({ batchId, stored: [], error: expect.stringContaining('v:') });

    const mismatch = await ingest.ingest('veh-1', batchPayload('veh-2', [makeEvent()]), 'mqtt');
    expect(mismatch.ack!.error).toBe('deviceId in payload (veh-2) does not match topic (veh-1)');
    expect(out.invalid?.kind).toBe('envelope');
    expect(mismatch.invalid?.kind).toBe('device_mismatch');
    expect(await count('detections')).toBe(0);
    expect(await count('quarantine')).toBe(2);
    expect(await metric('roadwatch_hub_events_rejected_total', { reason: 'envelope' })).toBe(1);
    expect(await metric('roadwatch_hub_events_rejected_total', { reason: 'device_mismatch' })).toBe(1);
  });

  it('stores each event once when 10 overlapping batches arrive at the same time', async () => {
    const pool = makeEvents(300);
    // Batch k holds events [20k, 20k+120): each event sits in up to 6 batches, in shuffled order.
    const batches = Array.from({ length: 10 }, (_, k) =>
      pool.slice(20 * k, 20 * k + 120).sort(() => Math.random() - 0.5),
    );
    const outs = await Promise.all(batches.map((events) => ingest.ingest('veh-1', batchPayload('veh-1', events), 'mqtt')));
    const stored = outs.flatMap((o) => o.ack!.stored);
    const distinct = new Set(batches.flat().map((e) => e.eventId));
    expect(stored.length).toBe(distinct.size);
    expect(new Set(stored).size).toBe(distinct.size);
    expect(outs.reduce((n, o) => n + o.duplicates, 0)).toBe(batches.flat().length - distinct.size);
    expect(await count('detections')).toBe(distinct.size);
  });
});

describe.each(testDatabases())('IngestService group commit on $name', ({ open }) => {
  let database: HubDatabase;
  let registry: Registry;
  let services: Services;
  const DEVICES = Array.from({ length: 24 }, (_, i) => `fleet-${String(i).padStart(2, '0')}`);
  const SEVERE = AlarmsConfigSchema.parse({});

  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.execute(
      sql`truncate detections, quarantine, alarms, devices, agg_hourly_device, agg_hourly_cell, agg_daily_cell, agg_device_numbers restart identity`,
    );
    await database.db.execute(sql`insert into devices (device_id, secret_hash) select d, 'x' from json_array_elements_text(${JSON.stringify(DEVICES)}::json) as d`);
    registry = new Registry();
  });

  const start = (groupCommit?: { statements?: number; maxBatches?: number; maxEvents?: number }) => {
    services = createServices({ database, logger: testLogger(), registry, config: { aggregates: { h3Resolution: 9 }, alarms: SEVERE }, hotspotDelayMs: 0 });
    if (groupCommit) {
      // The same rules and registry, other group-commit limits.
      services.ingest = new IngestService({ db: database.db, logger: testLogger(), registry, h3Resolution: 9, rules: services.alarmRules, groupCommit });
    }
    return services.ingest;
  };
  const metric = async (name: string, labels: Record<string, string> = {}, field: 'value' | 'count' = 'value') => {
    const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
    if (field === 'count') return m?.values.find((x) => (x as { metricName?: string }).metricName === `${name}_count`)?.value ?? 0;
    return m?.values.filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)).reduce((n, x) => n + x.value, 0) ?? 0;
  };
  const ingestAll = (ingest: IngestService, batches: Array<{ deviceId: string; events: unknown[]; batchId: string }>) =>
    Promise.all(batches.map((b) => ingest.ingest(b.deviceId, batchPayload(b.deviceId, b.events, b.batchId), 'mqtt')));
  const severeEvent = (i: number) => makeEvent({ class: 'D40', confidence: 0.9, lat: 52.37 + (i % 3) * 0.01, lon: 4.89 });

  it('a lone batch runs at once, in its own statement', async () => {
    const ingest = start();
    const pending = ingest.ingest('fleet-00', batchPayload('fleet-00', makeEvents(3)), 'mqtt');
    expect(ingest.pending).toEqual({ statements: 1, queued: 0 });
    expect((await pending).stored).toBe(3);
    expect(ingest.pending).toEqual({ statements: 0, queued: 0 });
    expect(await metric('roadwatch_hub_ingest_statements_total', { kind: 'group' })).toBe(1);
  });

  it.each([
    { name: 'default limits', limits: undefined },
    { name: 'one statement at a time', limits: { statements: 1 } },
    { name: 'small caps', limits: { statements: 2, maxBatches: 3, maxEvents: 50 } },
  ])('coalesces many concurrent batches of many devices: each event stored once, each caller its own result, rollups = rebuild, severe alarms once per event ($name)', async ({ limits }) => {
    const ingest = start(limits);
    // 24 devices × 3 batches of ~20 events; every 10th event is severe (3 cells); some events sit in a second batch too.
    let k = 0;
    const batches = DEVICES.flatMap((deviceId) =>
      Array.from({ length: 3 }, () => ({ deviceId, batchId: newBatchId(), events: Array.from({ length: 20 }, () => (++k % 10 === 0 ? severeEvent(k) : makeEvent({ lon: 4.89 + (k % 7) * 0.002, class: ['D00', 'D10', 'D20'][k % 3]! }))) as RoadEvent[] })),
    );
    for (let i = 5; i < batches.length; i += 7) batches[i]!.events.push(batches[i - 3]!.events[i % 20]!, batches[i - 1]!.events[(i + 1) % 20]!);
    const outs = await ingestAll(ingest, batches);

    const distinct = new Set(batches.flatMap((b) => b.events.map((e) => e.eventId)));
    const owners = new Map<string, number>();
    outs.forEach((o, i) => {
      const own = new Set(batches[i]!.events.map((e) => e.eventId));
      expect(o.ack!.batchId).toBe(batches[i]!.batchId);
      expect(o.ack!.rejected).toEqual([]);
      for (const id of o.ack!.stored) {
        expect(own.has(id)).toBe(true);
        expect(owners.has(id)).toBe(false);
        owners.set(id, i);
      }
      expect(o.stored + o.duplicates).toBe(batches[i]!.events.length);
    });
    expect(owners.size).toBe(distinct.size);
    // Every batch without a shared event stored all of its events.
    const shared = new Set(batches.flatMap((b, i) => b.events.filter((e) => batches.some((o, j) => j !== i && o.events.includes(e))).map((e) => e.eventId)));
    outs.forEach((o, i) => expect(o.ack!.stored.length).toBe(batches[i]!.events.filter((e) => !shared.has(e.eventId)).length + o.ack!.stored.filter((id) => shared.has(id)).length));

    // Stored with the device and batch of the caller it was acked to.
    const rows = await execRows<{ event_id: string; device_id: string; batch_id: string }>(database.db, sql`select event_id::text, device_id, batch_id::text from detections`);
    expect(rows.length).toBe(distinct.size);
    for (const r of rows) expect(r).toMatchObject({ device_id: batches[owners.get(r.event_id)!]!.deviceId, batch_id: batches[owners.get(r.event_id)!]!.batchId });

    const incremental = await rollupSnapshot(database);
    expect(incremental.hourlyDevice.reduce((n, r) => n + Number(r.events), 0)).toBe(distinct.size);
    await new AggregatesService({ db: database.db, logger: testLogger(), h3Resolution: 9 }).rebuild();
    expect(await rollupSnapshot(database)).toEqual(incremental);

    const severe = await execRows<{ source: string; count: number }>(database.db, sql`select source, count::int as count from alarms where type = 'severe_damage'`);
    expect(severe.length).toBe(3);
    expect(severe.reduce((n, a) => n + a.count, 0)).toBe(batches.flatMap((b) => b.events).filter((e, i, all) => e.class === 'D40' && all.indexOf(e) === i).length);

    const seen = await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from devices where last_seen_at is not null`);
    expect(seen[0]!.n).toBe(DEVICES.length);
    const statements = await metric('roadwatch_hub_ingest_statements_total', { kind: 'group' });
    expect(statements).toBeLessThan(batches.length);
    expect(await metric('roadwatch_hub_ingest_statement_batches', {}, 'count')).toBe(statements);
    expect(await metric('roadwatch_hub_events_stored_total')).toBe(distinct.size);
    expect(await metric('roadwatch_hub_batches_total', { channel: 'mqtt' })).toBe(batches.length);
  });

  it('moves agg_changes after the commits, one bump shared by the statements that commit while one runs', async () => {
    const ingest = start({ statements: 4, maxBatches: 1 });
    const position = async () => {
      const [row] = await execRows<{ v: string; is_called: boolean }>(database.db, aggregatesVersion);
      return Number(row!.v) - (row!.is_called ? 0 : 1);
    };
    const before = await position();
    const outs = await Promise.all(
      DEVICES.flatMap((deviceId) => [0, 1, 2].map(async () => ({ stored: (await ingest.ingest(deviceId, batchPayload(deviceId, makeEvents(5)), 'mqtt')).stored, after: await position() }))),
    );
    expect(outs.every((o) => o.stored === 5 && o.after > before)).toBe(true);
    const statements = await metric('roadwatch_hub_ingest_statements_total', { kind: 'group' });
    expect(statements).toBe(DEVICES.length * 3);
    const bumps = (await position()) - before;
    expect(bumps).toBeGreaterThanOrEqual(1);
    expect(bumps).toBeLessThan(statements);
  });

  it('the same event in two coalesced batches is stored once: stored for one caller, a duplicate for the other', async () => {
    const ingest = start({ statements: 1 });
    const twin = severeEvent(0);
    const blocker = ingest.ingest('fleet-00', batchPayload('fleet-00', makeEvents(2)), 'mqtt');
    const a = { deviceId: 'fleet-01', batchId: newBatchId(), events: [makeEvent(), twin, makeEvent()] };
    const b = { deviceId: 'fleet-01', batchId: newBatchId(), events: [twin, makeEvent()] };
    const c = { deviceId: 'fleet-02', batchId: newBatchId(), events: [makeEvent(), twin] }; // another device, even
    const both = ingestAll(ingest, [a, b, c]);
    expect(ingest.pending).toEqual({ statements: 1, queued: 3 });
    await blocker;
    const [oa, ob, oc] = await both;
    expect(await metric('roadwatch_hub_ingest_statements_total', { kind: 'group' })).toBe(2); // the blocker, then a + b + c together
    expect(new Set(oa!.ack!.stored)).toEqual(new Set(a.events.map((e) => e.eventId)));
    expect(oa!.ack!.duplicates).toBe(0);
    expect(ob!.ack).toMatchObject({ stored: [b.events[1]!.eventId], duplicates: 1 });
    expect(oc!.ack).toMatchObject({ stored: [c.events[0]!.eventId], duplicates: 1 });
    const [row] = await execRows<{ n: number; device_id: string; batch_id: string }>(
      database.db,
      sql`select count(*) over ()::int as n, device_id, batch_id::text from detections where event_id = ${twin.eventId}`,
    );
    expect(row).toEqual({ n: 1, device_id: 'fleet-01', batch_id: a.batchId });
    const [alarm] = await execRows<{ count: number }>(database.db, sql`select count::int as count from alarms where type = 'severe_damage'`);
    expect(alarm!.count).toBe(1);
    expect(await metric('roadwatch_hub_events_duplicates_total')).toBe(2);
  });

  it('the same event in two concurrent batches under real concurrency (default limits) is stored once', async () => {
    const ingest = start();
    for (let round = 0; round < 5; round++) {
      const twin = makeEvent();
      const batches = Array.from({ length: 12 }, (_, i) => ({ deviceId: DEVICES[i % 4]!, batchId: newBatchId(), events: [makeEvent(), twin] }));
      const outs = await ingestAll(ingest, batches);
      expect(outs.filter((o) => o.ack!.stored.includes(twin.eventId))).toHaveLength(1);
      expect(outs.reduce((n, o) => n + o.duplicates, 0)).toBe(11);
    }
    expect((await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections`))[0]!.n).toBe(5 * 13);
  });

  it('a batch with an event Postgres refuses, coalesced with good batches, leaves the good ones unaffected', async () => {
    // Validation catches what Postgres is known to refuse (NUL, year 0); a check constraint stands in for the unknown rest.
    await database.db.execute(sql`alter table detections add constraint test_poison check (model is distinct from 'poison')`);
    const ingest = start({ statements: 1 });
    const blocker = ingest.ingest('fleet-00', batchPayload('fleet-00', makeEvents(2)), 'mqtt');
    const good1 = { deviceId: 'fleet-01', batchId: newBatchId(), events: [makeEvent(), severeEvent(1)] };
    const poison = makeEvent({ model: 'poison' });
    const bad = { deviceId: 'fleet-02', batchId: newBatchId(), events: [makeEvent(), poison, makeEvent({ lat: 95 })] };
    const good2 = { deviceId: 'fleet-03', batchId: newBatchId(), events: [makeEvent(), good1.events[0]!] };
    const outs = ingestAll(ingest, [good1, bad, good2]);
    await blocker;
    const [o1, ob, o2] = await outs;
    expect(new Set(o1!.ack!.stored)).toEqual(new Set(good1.events.map((e) => e.eventId)));
    expect(o1!.ack).toMatchObject({ duplicates: 0, rejected: [] });
    expect(o2!.ack).toMatchObject({ stored: [good2.events[0]!.eventId], duplicates: 1, rejected: [] });
    expect(ob!.ack!.stored).toEqual([bad.events[0]!.eventId]);
    expect(ob!.ack!.rejected.map((r) => r.eventId).sort()).toEqual([poison.eventId, bad.events[2]!.eventId].sort());
    expect((await execRows<{ n: number }>(database.db, sql`select count(*)::int as n from detections`))[0]!.n).toBe(2 + 2 + 1 + 1);
    const q = await execRows<{ device_id: string; batch_id: string; event_id: string }>(database.db, sql`select device_id, batch_id, event_id from quarantine order by event_id`);
    expect(q).toHaveLength(2);
    for (const r of q) expect(r).toMatchObject({ device_id: 'fleet-02', batch_id: bad.batchId });
    expect(await metric('roadwatch_hub_ingest_statements_total', { kind: 'isolate' })).toBeGreaterThan(0);
    const [alarm] = await execRows<{ count: number }>(database.db, sql`select count::int as count from alarms where type = 'severe_damage'`);
    expect(alarm!.count).toBe(1);
    await database.db.execute(sql`alter table detections drop constraint test_poison`);
  });
});
