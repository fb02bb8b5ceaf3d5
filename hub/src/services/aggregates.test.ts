import type { RoadEvent } from '@roadwatch/shared';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HubDatabase } from '../db/client.js';
import { execRows } from '../db/rows.js';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import { AggregatesService } from './aggregates.js';
import { cellOf, cellResolution } from './geo.js';
import { IngestService } from './ingest.js';
import { batchPayload, makeEvent } from './testing/fixtures.js';

const BASE = Date.UTC(2026, 10, 22, 8, 0, 0);
const HOUR = 3_600_000;

/** Every rollup row, in a stable order and exact text form (numeric sums included). */
async function snapshot(database: HubDatabase) {
  const q = (text: string) => execRows(database.db, sql.raw(text));
  return {
    hourlyDevice: await q(`select to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, device_id, class, events, confidence_sum::text as sum, confidence_max from agg_hourly_device order by 1, 2, 3`),
    hourlyCell: await q(`select to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, cell, resolution, device_id, class, events, confidence_sum::text as sum, confidence_max from agg_hourly_cell order by 1, 2, 3, 4, 5`),
  };
}

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
    await database.db.execute(sql`truncate detections, quarantine, agg_hourly_device, agg_hourly_cell restart identity`);
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
    expect(await snapshot(database)).toEqual({
      hourlyDevice: [
        { hour: '2026-11-15 08', device_id: 'veh-1', class: 'pothole', events: 1, sum: '0.25', confidence_max: 0.25 },
        { hour: '2026-11-22 08', device_id: 'veh-1', class: 'pothole', events: 2, sum: '1.25', confidence_max: 0.75 },
      ],
      hourlyCell: [
        { hour: '2026-11-15 08', cell, resolution: 9, device_id: 'veh-1', class: 'pothole', events: 1, sum: '0.25', confidence_max: 0.25 },
        { hour: '2026-11-22 08', cell, resolution: 9, device_id: 'veh-1', class: 'pothole', events: 2, sum: '1.25', confidence_max: 0.75 },
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
        await database.db.execute(sql`truncate detections, agg_hourly_device, agg_hourly_cell restart identity`);
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
        const incremental = await snapshot(database);
        // Each event counted once, whatever the copies.
        const counted = new Map(
          (await execRows<{ hour: Date | string; device_id: string; class: string; events: number }>(database.db, sql`select hour, device_id, class, events from agg_hourly_device`)).map((r) => [
            `${new Date(r.hour).toISOString()}|${r.device_id}|${r.class}`,
            Number(r.events),
          ]),
        );
        expect(counted).toEqual(distinct);

        await aggregates.rebuild({ from: new Date(BASE + rangeStart * HOUR), to: new Date(BASE + (rangeStart + rangeHours) * HOUR) });
        expect(await snapshot(database)).toEqual(incremental);
        await aggregates.rebuild();
        expect(await snapshot(database)).toEqual(incremental);
      }),
      { numRuns: 12 },
    );
  });

  it('rebuild repairs a damaged range, leaves the rest alone, and fills in missing cells', async () => {
    const events = Array.from({ length: 6 }, (_, i) => makeEvent({ ts: new Date(BASE + i * 5 * HOUR).toISOString(), lat: 52.37 + i * 0.01 }));
    await ingest.ingest('veh-1', batchPayload('veh-1', events), 'mqtt');
    const good = await snapshot(database);
    await database.db.execute(sql`update agg_hourly_device set events = 99`);
    await database.db.execute(sql`delete from agg_hourly_cell`);
    await database.db.execute(sql`update detections set h3_cell = null`);

    const report = await aggregates.rebuild({ from: new Date(BASE + 9 * HOUR), to: new Date(BASE + 10 * HOUR + 1) });
    expect(report).toEqual({
      hours: { from: '2026-11-22T17:00:00.000Z', to: '2026-11-22T19:00:00.000Z' },
      cellsFilled: 1, // the 18 h event
      rows: { hourlyDevice: 1, hourlyCell: 1 },
    });
    const partial = await snapshot(database);
    expect(partial.hourlyDevice.map((r) => r.events)).toEqual([99, 99, 1, 99, 99, 99]);
    expect(partial.hourlyCell).toEqual(good.hourlyCell.filter((r) => r.hour === '2026-11-22 18'));

    expect((await aggregates.rebuild()).cellsFilled).toBe(5);
    expect(await snapshot(database)).toEqual(good);
    expect((await aggregates.rebuild()).cellsFilled).toBe(0);
  });

  it('rebuild at another resolution recomputes every cell', async () => {
    await ingest.ingest('veh-1', batchPayload('veh-1', [makeEvent(), makeEvent({ lat: 52.4 })]), 'mqtt');
    const coarse = new AggregatesService({ db: database.db, logger: testLogger(), h3Resolution: 7 });
    expect((await coarse.rebuild()).cellsFilled).toBe(2);
    const cells = await execRows<{ h3_cell: string }>(database.db, sql`select h3_cell from detections`);
    expect(cells.map((c) => cellResolution(c.h3_cell))).toEqual([7, 7]);
    const rows = await snapshot(database);
    expect(rows.hourlyCell.map((r) => r.resolution)).toEqual([7, 7]);
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
