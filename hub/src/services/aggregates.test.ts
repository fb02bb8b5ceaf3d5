import type { RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { cellToParent } from 'h3-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { AggregatesService } from './aggregates.js';
import { cellOf, cellResolution, cellsOverlappingBox, type GeoBox } from './geo.js';
import { IngestService } from './ingest.js';
import { batchPayload, makeEvent } from './testing/fixtures.js';
import { rollupSnapshot } from './testing/rollups.js';

const BASE = Date.UTC(2026, 10, 22, 8, 0, 0);
const HOUR = 3_600_000;

describe.each(testDatabases())('aggregates on $name', ({ open }) => {
  let database: HubDatabase;
  let ingest: IngestService;
  let aggregates: AggregatesService;

  beforeAll(async () => {
    database = await open();
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await database.db.execute(sql`truncate detections, quarantine, agg_hourly_device, agg_hourly_cell, agg_daily_cell restart identity`);
    ingest = new IngestService({ db: database.db, logger: testLogger(), h3Resolution: 9 });
    aggregates = new AggregatesService({ db: database.db, logger: testLogger(), h3Resolution: 9 });
  });

  it('counts an event once however often it arrives; buckets by event time, so a late event lands in its own hour', async () => {
    const onTime = [makeEvent({ ts: new Date(BASE + 60_000).toISOString(), confidence: 0.5 }), makeEvent({ ts: new Date(BASE + 120_000).toISOString(), confidence: 0.75 })];
    const late = makeEvent({ ts: new Date(BASE - 7 * 24 * HOUR + 30 * 60_000).toISOString(), confidence: 0.25 });
    await ingest.ingest('veh-1', batchPayload('veh-1', onTime), 'mqtt');
    await ingest.ingest('veh-1', batchPayload('veh-1', onTime), 'mqtt'); // the same batch again
    await ingest.ingest('veh-1', batchPayload('veh-1', [onTime[0]!, late, late]), 'mqtt'); // overlap + a repeat inside the batch
    const cell = cellOf(52.37021, 4.89517, 9);
    expect(await rollupSnapshot(database)).toEqual({
      hourlyDevice: [
        { hour: '2026-11-15 08', device_id: 'veh-1', class: 'pothole', events: 1, sum: '0.25', confidence_max: 0.25 },
        { hour: '2026-11-22 08', device_id: 'veh-1', class: 'pothole', events: 2, sum: '1.25', confidence_max: 0.75 },
      ],
      hourlyCell: [
        { hour: '2026-11-15 08', cell, resolution: 9, device_id: 'veh-1', class: 'pothole', events: 1, sum: '0.25', confidence_max: 0.25 },
        { hour: '2026-11-22 08', cell, resolution: 9, device_id: 'veh-1', class: 'pothole', events: 2, sum: '1.25', confidence_max: 0.75 },
      ],
      dailyCell: [
        { day: '2026-11-15', cell, resolution: 9, class: 'pothole', events: 1, devices: expect.stringMatching(/^0*1$/), vehicles: 'veh-1' },
        { day: '2026-11-22', cell, resolution: 9, class: 'pothole', events: 2, devices: expect.stringMatching(/^0*1$/), vehicles: 'veh-1' },
      ],
    });
    const [stored] = await execRows<{ h3_cell: string }>(database.db, sql`select h3_cell from detections where event_id = ${late.eventId}`);
    expect(stored!.h3_cell).toBe(cell);

    expect(await aggregates.hourly({ from: new Date(BASE), to: new Date(BASE + HOUR) })).toEqual([
      { hour: '2026-11-22T08:00:00.000Z', deviceId: 'veh-1', class: 'pothole', events: 2, avgConfidence: 0.625, maxConfidence: 0.75 },
    ]);
    expect(await aggregates.cells({ from: new Date(BASE - 8 * 24 * HOUR), to: new Date(BASE + HOUR) })).toEqual([{ cell, resolution: 9, events: 3, devices: 1 }]);
    expect(await aggregates.cells({ from: new Date(BASE - 8 * 24 * HOUR), to: new Date(BASE) })).toEqual([{ cell, resolution: 9, events: 1, devices: 1 }]);
  });

  it('rebuild reproduces incremental maintenance exactly (random ingests with duplicates and late events)', async () => {
    const eventArb = fc.record({
      device: fc.integer({ min: 0, max: 2 }),
      hour: fc.integer({ min: -24 * 9, max: 30 }),
      second: fc.integer({ min: 0, max: 3599 }),
      cls: fc.constantFrom('D00', 'D10', 'D20', 'D40'),
      confidence: fc.integer({ min: 1, max: 1000 }),
      spot: fc.integer({ min: 0, max: 5 }),
      copies: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: -24 * 9, max: 30 }), fc.integer({ min: 1, max: 48 }), async (specs, rangeStart, rangeHours) => {
        await database.db.execute(sql`truncate detections, agg_hourly_device, agg_hourly_cell, agg_daily_cell restart identity`);
        const batches = new Map<string, RoadEvent[]>();
        const distinct = new Map<string, number>();
        for (const s of specs) {
          const e = makeEvent({
            ts: new Date(BASE + s.hour * HOUR + s.second * 1000).toISOString(),
            class: s.cls,
            confidence: s.confidence / 1000,
            lat: 52.37 + (s.spot % 3) * 0.0015,
            lon: 4.89 + Math.floor(s.spot / 3) * 0.0015,
          });
          for (const b of s.copies) {
            const key = `veh-${s.device}:${b}`;
            batches.set(key, [...(batches.get(key) ?? []), e]);
          }
          const hourKey = `${new Date(Math.floor(Date.parse(e.ts) / HOUR) * HOUR).toISOString()}|veh-${s.device}|${s.cls}`;
          distinct.set(hourKey, (distinct.get(hourKey) ?? 0) + 1);
        }
        await Promise.all([...batches].map(([key, events]) => ingest.ingest(key.split(':')[0]!, batchPayload(key.split(':')[0]!, events), 'mqtt')));
        const incremental = await rollupSnapshot(database);
        // Each event counted once, whatever the copies.
        const counted = new Map(
          (await execRows<{ hour: Date | string; device_id: string; class: string; events: number }>(database.db, sql`select hour, device_id, class, events from agg_hourly_device`)).map((r) => [
            `${new Date(r.hour).toISOString()}|${r.device_id}|${r.class}`,
            Number(r.events),
          ]),
        );
        expect(counted).toEqual(distinct);

        await aggregates.rebuild({ from: new Date(BASE + rangeStart * HOUR), to: new Date(BASE + (rangeStart + rangeHours) * HOUR) });
        expect(await rollupSnapshot(database)).toEqual(incremental);
        await aggregates.rebuild();
        expect(await rollupSnapshot(database)).toEqual(incremental);
      }),
      { numRuns: 12 },
    );
  });

  it('rebuild repairs a damaged range, leaves the rest alone, and fills in missing cells', async () => {
    const events = Array.from({ length: 6 }, (_, i) => makeEvent({ ts: new Date(BASE + i * 5 * HOUR).toISOString(), lat: 52.37 + i * 0.01 }));
    await ingest.ingest('veh-1', batchPayload('veh-1', events), 'mqtt');
    const good = await rollupSnapshot(database);
    await database.db.execute(sql`update agg_hourly_device set events = 99`);
    await database.db.execute(sql`delete from agg_hourly_cell`);
    await database.db.execute(sql`update detections set h3_cell = null`);

    const report = await aggregates.rebuild({ from: new Date(BASE + 9 * HOUR), to: new Date(BASE + 10 * HOUR + 1) });
    expect(report).toEqual({
      hours: { from: '2026-11-22T17:00:00.000Z', to: '2026-11-22T19:00:00.000Z' },
      days: { from: '2026-11-22', to: '2026-11-23' },
      cellsFilled: 1, // the 18 h event
      rows: { hourlyDevice: 1, hourlyCell: 1, dailyCell: 1 }, // that day's other events have no cell yet
    });
    const partial = await rollupSnapshot(database);
    expect(partial.hourlyDevice.map((r) => r.events)).toEqual([99, 99, 1, 99, 99, 99]);
    expect(partial.hourlyCell).toEqual(good.hourlyCell.filter((r) => r.hour === '2026-11-22 18'));

    expect((await aggregates.rebuild()).cellsFilled).toBe(5);
    expect(await rollupSnapshot(database)).toEqual(good);
    expect((await aggregates.rebuild()).cellsFilled).toBe(0);
  });

  it('rebuild at another resolution recomputes every cell', async () => {
    await ingest.ingest('veh-1', batchPayload('veh-1', [makeEvent(), makeEvent({ lat: 52.4 })]), 'mqtt');
    const coarse = new AggregatesService({ db: database.db, logger: testLogger(), h3Resolution: 7 });
    expect((await coarse.rebuild()).cellsFilled).toBe(2);
    const cells = await execRows<{ h3_cell: string }>(database.db, sql`select h3_cell from detections`);
    expect(cells.map((c) => cellResolution(c.h3_cell))).toEqual([7, 7]);
    const rows = await rollupSnapshot(database);
    expect(rows.hourlyCell.map((r) => r.resolution)).toEqual([7, 7]);
  });

  it('cells match a brute-force count over the events (whole days, hours at either end, parents, bbox, classes, thresholds, paging)', async () => {
    const spots = [...Array.from({ length: 4 }, (_, i) => ({ lat: 52.37 + (i % 2) * 0.004, lon: 4.89 + Math.floor(i / 2) * 0.004 })), { lat: 52.0, lon: 5.5 }];
    const eventArb = fc.record({
      device: fc.integer({ min: 0, max: 4 }),
      hour: fc.integer({ min: -24 * 3, max: 24 * 2 }),
      second: fc.integer({ min: 0, max: 3599 }),
      cls: fc.constantFrom('D00', 'D40'),
      spot: fc.integer({ min: 0, max: spots.length - 1 }),
      again: fc.boolean(), // sent twice: must count once
    });
    const queryArb = fc.record({
      fromMin: fc.integer({ min: -60 * 24 * 4, max: 60 * 24 * 2 }),
      spanMin: fc.oneof(fc.integer({ min: 1, max: 60 * 30 }), fc.integer({ min: 60 * 24, max: 60 * 24 * 8 }), fc.constantFrom(60 * 24, 60 * 48)),
      dayAligned: fc.boolean(),
      resolution: fc.constantFrom(9, 9, 7, 5),
      cls: fc.constantFrom(undefined, 'D00', ['D40', 'D00']),
      // A few cells (a row condition), one far away, and ~1,000 cells at resolution 9 (kept after grouping).
      bbox: fc.constantFrom(
        undefined,
        undefined,
        { minLon: 4.889, minLat: 52.369, maxLon: 4.8915, maxLat: 52.3795 },
        { minLon: 5.4, minLat: 51.9, maxLon: 5.6, maxLat: 52.1 },
        { minLon: 4.85, minLat: 52.34, maxLon: 4.95, maxLat: 52.4 },
      ),
      minEvents: fc.constantFrom(1, 1, 2, 5),
      minDevices: fc.constantFrom(1, 1, 2, 3),
      limit: fc.integer({ min: 1, max: 8 }),
      offset: fc.constantFrom(0, 0, 1),
    });
    type Spec = { device: number; hour: number; second: number; cls: string; spot: number };
    const DAY = 24 * HOUR;
    const brute = (specs: Spec[], q: Parameters<AggregatesService['cells']>[0]) => {
      const res = q.resolution ?? 9;
      const cover = q.bbox ? new Set(cellsOverlappingBox(q.bbox as GeoBox, res)) : null;
      const classes = q.class === undefined ? null : ([] as string[]).concat(q.class);
      const from = Math.floor(q.from.getTime() / HOUR) * HOUR;
      const cells = new Map<string, { events: number; devices: Set<number> }>();
      for (const e of specs) {
        const ts = BASE + e.hour * HOUR + e.second * 1000;
        if (Math.floor(ts / HOUR) * HOUR < from || Math.floor(ts / HOUR) * HOUR >= q.to.getTime()) continue;
        if (classes && !classes.includes(e.cls)) continue;
        const cell = cellToParent(cellOf(spots[e.spot]!.lat, spots[e.spot]!.lon, 9), res);
        if (cover && !cover.has(cell)) continue;
        const c = cells.get(cell) ?? { events: 0, devices: new Set<number>() };
        c.events++;
        c.devices.add(e.device);
        cells.set(cell, c);
      }
      return [...cells]
        .map(([cell, c]) => ({ cell, resolution: res, events: c.events, devices: c.devices.size }))
        .filter((c) => c.events >= (q.minEvents ?? 1) && c.devices >= (q.minDevices ?? 1))
        .sort((a, b) => b.events - a.events || b.devices - a.devices || (a.cell < b.cell ? -1 : a.cell > b.cell ? 1 : 0))
        .slice(q.offset ?? 0, (q.offset ?? 0) + (q.limit ?? 100));
    };
    let answered = 0;
    let asked = 0;
    const ingestAll = async (specs: Spec[], copies: boolean[]) => {
      const batches = new Map<number, RoadEvent[]>();
      specs.forEach((s, i) => {
        const e = makeEvent({ ts: new Date(BASE + s.hour * HOUR + s.second * 1000).toISOString(), class: s.cls, ...spots[s.spot]! });
        batches.set(s.device, [...(batches.get(s.device) ?? []), e, ...(copies[i] ? [e] : [])]);
      });
      await Promise.all([...batches].map(([d, events]) => ingest.ingest(`veh-${d}`, batchPayload(`veh-${d}`, events), 'mqtt')));
    };
    await fc.assert(
      fc.asyncProperty(fc.array(eventArb, { minLength: 40, maxLength: 200, size: 'max' }), fc.array(eventArb, { maxLength: 20 }), fc.array(queryArb, { minLength: 1, maxLength: 4 }), async (specs, more, queries) => {
        await database.db.execute(sql`truncate detections, agg_hourly_device, agg_hourly_cell, agg_daily_cell restart identity`);
        await ingestAll(specs, specs.map((s) => s.again));
        const ask = (q: (typeof queries)[number]) => {
          const fromMs = q.dayAligned ? Math.floor((BASE + q.fromMin * 60_000) / DAY) * DAY : BASE + q.fromMin * 60_000;
          const spanMs = q.dayAligned ? Math.max(1, Math.round(q.spanMin / (60 * 24))) * DAY : q.spanMin * 60_000;
          return { from: new Date(fromMs), to: new Date(fromMs + spanMs), resolution: q.resolution, class: q.cls, bbox: q.bbox, minEvents: q.minEvents, minDevices: q.minDevices, limit: q.limit, offset: q.offset };
        };
        for (const q of queries) {
          const expected = brute(specs, ask(q));
          expect(await aggregates.cells(ask(q))).toEqual(expected);
          answered += expected.length ? 1 : 0;
          asked++;
        }
        // More events: the same questions get new answers, not the ones kept from before.
        await ingestAll(more, more.map(() => false));
        for (const q of queries) expect(await aggregates.cells(ask(q))).toEqual(brute([...specs, ...more], ask(q)));
      }),
      { numRuns: 25 },
    );
    expect(answered).toBeGreaterThan(asked / 3); // most cases do find cells
  });

  it('cells answers are kept until the rollups change, and a rebuild changes them', async () => {
    const cell = cellOf(52.37021, 4.89517, 9);
    await ingest.ingest('veh-1', batchPayload('veh-1', [makeEvent({ ts: new Date(BASE).toISOString() })]), 'mqtt');
    const q = { from: new Date(BASE - 3 * 24 * HOUR), to: new Date(BASE + 24 * HOUR) };
    expect(await aggregates.cells(q)).toEqual([{ cell, resolution: 9, events: 1, devices: 1 }]);
    // Behind the service's back (no agg_changes): the kept answer stays…
    await database.db.execute(sql`update agg_daily_cell set events = 7`);
    expect(await aggregates.cells(q)).toEqual([{ cell, resolution: 9, events: 1, devices: 1 }]);
    // …until something moves agg_changes: here a rebuild, which also repairs the row.
    await aggregates.rebuild();
    await database.db.execute(sql`update agg_daily_cell set events = 7`);
    expect(await aggregates.cells(q)).toEqual([{ cell, resolution: 9, events: 7, devices: 1 }]);
    await aggregates.rebuild();
    expect(await aggregates.cells(q)).toEqual([{ cell, resolution: 9, events: 1, devices: 1 }]);
  });

  it('hourly answers are kept until the rollups change: the next ingest is in the next answer', async () => {
    await ingest.ingest('veh-1', batchPayload('veh-1', [makeEvent({ ts: new Date(BASE).toISOString(), class: 'D00' })]), 'mqtt');
    const q = { from: new Date(BASE - HOUR), to: new Date(BASE + HOUR) };
    expect((await aggregates.hourly(q)).map((r) => r.events)).toEqual([1]);
    await database.db.execute(sql`update agg_hourly_device set events = 7`); // behind the service's back: kept
    expect((await aggregates.hourly(q)).map((r) => r.events)).toEqual([1]);
    await ingest.ingest('veh-2', batchPayload('veh-2', [makeEvent({ ts: new Date(BASE).toISOString(), class: 'D00' })]), 'mqtt');
    expect((await aggregates.hourly(q)).map((r) => [r.deviceId, r.events])).toEqual([['veh-1', 7], ['veh-2', 1]]);
    expect((await aggregates.hourly({ ...q, deviceId: 'veh-2' })).map((r) => r.deviceId)).toEqual(['veh-2']); // another question, its own answer
  });

  it('refuses an empty range', async () => {
    await expect(aggregates.rebuild({ from: new Date(BASE), to: new Date(BASE - HOUR) })).rejects.toThrow(/empty range/);
  });
});

describe('H3 cells', () => {
  it('the second hex digit of a cell is its resolution (what rebuild uses to find cells at another resolution)', () => {
    for (let res = 0; res <= 15; res++) {
      const cell = cellOf(-33.86, 151.2, res);
      expect(cell).toHaveLength(15);
      expect(cellResolution(cell)).toBe(res);
      expect(cell[1]).toBe(res.toString(16));
    }
    expect(cellResolution('nope')).toBeNull();
  });
});
