import { AckSchema, newBatchId } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { DeviceRegistryService } from './devices.js';
import { IngestService } from './ingest.js';
import { batchPayload, makeEvent, makeEvents } from './testing/fixtures.js';

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
    const offset = makeEvent({ ts: '2026-01-01T00:00:00+23:59' });
    const out = await ingest.ingest('veh-1', batchPayload('veh-1', [good, nul, year0, offset]), 'mqtt');
    expect(new Set(out.ack!.stored)).toEqual(new Set([good.eventId, offset.eventId]));
    expect(out.ack!.rejected.map((r) => r.eventId).sort()).toEqual([nul.eventId, year0.eventId].sort());
    expect(await count('quarantine')).toBe(2);
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
