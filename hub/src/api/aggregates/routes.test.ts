import { cellToParent } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { cellOf } from '../../services/geo.js';
import { batchPayload, makeEvent } from '../../services/testing/fixtures.js';
import type { ErrorEnvelope } from '../errors.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import { LIMIT_CASES, LIMIT_MESSAGE, OFFSET_CASES, OFFSET_MESSAGE } from '../testing/query-cases.js';
import { CellFeatureCollectionSchema, CellPageSchema, HourlyPageSchema } from './spec.js';

const BASE = Date.UTC(2026, 10, 22, 8, 0, 0);
const at = (ms: number) => new Date(BASE + ms).toISOString();
const MIN = 60_000;
const A = { lat: 52.37021, lon: 4.89517 };
const B = { lat: 52.0, lon: 5.5 };
const RANGE = `from=${at(0)}&to=${at(120 * MIN)}`;

interface Body extends ErrorEnvelope {
  from: string;
  to: string;
  resolution: number;
  items: Array<Record<string, unknown>>;
  limit: number;
  offset: number;
  nextOffset: number | null;
}

describe.each(testDatabases())('aggregates API on $name', (testDb) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (path: string, token: string | null = t.tokens.read) => {
    const res = await t.app.request(path, { headers: token ? bearer(token) : {} });
    const body = (await res.json()) as Body;
    return { res, status: res.status, body, error: body.error };
  };

  it('empty database: empty lists, not errors', async () => {
    const hourly = await get(`/api/v1/aggregates/hourly?${RANGE}`);
    expect(hourly.status).toBe(200);
    expect(hourly.body).toEqual({ from: at(0), to: at(120 * MIN), items: [], limit: 100, offset: 0, nextOffset: null });
    const cells = await get(`/api/v1/aggregates/cells?${RANGE}`);
    expect(cells.status).toBe(200);
    expect(cells.body).toEqual({ from: at(0), to: at(120 * MIN), resolution: 9, items: [], limit: 100, offset: 0, nextOffset: null });
    // The default range (the last day / week up to now) is as valid.
    expect((await get('/api/v1/aggregates/hourly')).body.items).toEqual([]);
    expect((await get('/api/v1/aggregates/cells?bbox=4.85,52.35,4.95,52.40&format=geojson')).body).toMatchObject({ type: 'FeatureCollection', features: [] });
  });

  it('needs a read token: 401 without one', async () => {
    for (const path of ['/api/v1/aggregates/hourly', '/api/v1/aggregates/cells']) expect((await get(path, null)).status).toBe(401);
  });

  describe.each(['hourly', 'cells'])('%s paging parameters', (which) => {
    it.each(LIMIT_CASES)('limit=%s → accepted: %s', async (limit, ok) => {
      const { status, error } = await get(`/api/v1/aggregates/${which}?${RANGE}&limit=${limit}`);
      expect(status).toBe(ok ? 200 : 400);
      if (!ok) expect(error.message).toContain(LIMIT_MESSAGE);
    });
    it.each(OFFSET_CASES)('offset=%s → accepted: %s', async (offset, ok) => {
      const { status, error } = await get(`/api/v1/aggregates/${which}?${RANGE}&offset=${offset}`);
      expect(status).toBe(ok ? 200 : 400);
      if (!ok) expect(error.message).toContain(OFFSET_MESSAGE);
    });
  });

  it.each([
    [`from=${at(120 * MIN)}&to=${at(0)}`, 'must be before to'],
    [`from=${at(0)}&to=${at(0)}`, 'must be before to'],
    ['from=2025-01-01&to=2026-11-22', 'is longer than 366 days; split it into several requests'],
    ['from=yesterday', 'from must be an ISO-8601 time with a zone such as 2026-11-22T08:00:00Z'],
    ['to=2026-11-22T08:00:00', 'to must be an ISO-8601 time with a zone'],
    ['from=2026-02-30', 'from must be an ISO-8601 time'],
  ])('rejects the range %s', async (query, message) => {
    for (const which of ['hourly', 'cells']) {
      const { status, error } = await get(`/api/v1/aggregates/${which}?${query}`);
      expect(status).toBe(400);
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(message);
    }
  });

  describe('with events', () => {
    beforeAll(async () => {
      await t.services.devices.add('veh-1');
      await t.services.devices.add('veh-2');
      const one = [
        makeEvent({ ts: at(1 * MIN), ...A }),
        makeEvent({ ts: at(2 * MIN), ...A }),
        makeEvent({ ts: at(65 * MIN), ...A, class: 'D40' }),
      ];
      const two = [makeEvent({ ts: at(10 * MIN), ...A }), makeEvent({ ts: at(11 * MIN), ...A }), makeEvent({ ts: at(20 * MIN), ...B })];
      expect((await t.services.ingest.ingest('veh-1', batchPayload('veh-1', one), 'mqtt')).stored).toBe(3);
      expect((await t.services.ingest.ingest('veh-2', batchPayload('veh-2', two), 'mqtt')).stored).toBe(3);
    });

    it('hourly: per hour, vehicle and class, oldest first', async () => {
      const { status, body } = await get(`/api/v1/aggregates/hourly?${RANGE}`);
      expect(status).toBe(200);
      HourlyPageSchema.parse(body);
      expect(body.items.map((r) => [r.hour, r.deviceId, r.class, r.events])).toEqual([
        [at(0), 'veh-1', 'pothole', 2],
        [at(0), 'veh-2', 'pothole', 3],
        [at(60 * MIN), 'veh-1', 'D40', 1],
      ]);
      // real 0.87 comes back as 0.87, not 0.8700000047683716.
      expect(body.items[0]).toMatchObject({ avgConfidence: expect.closeTo(0.87, 5), maxConfidence: 0.87 });
    });

    it('hourly: filters by deviceId and class, pages with nextOffset', async () => {
      expect((await get(`/api/v1/aggregates/hourly?${RANGE}&deviceId=veh-1`)).body.items.map((r) => r.class)).toEqual(['pothole', 'D40']);
      expect((await get(`/api/v1/aggregates/hourly?${RANGE}&class=D40`)).body.items.map((r) => r.deviceId)).toEqual(['veh-1']);
      expect((await get(`/api/v1/aggregates/hourly?${RANGE}&class=D40&class=pothole`)).body.items).toHaveLength(3);
      expect((await get(`/api/v1/aggregates/hourly?from=${at(60 * MIN)}&to=${at(120 * MIN)}`)).body.items).toHaveLength(1);
      const first = (await get(`/api/v1/aggregates/hourly?${RANGE}&limit=2`)).body;
      expect(first).toMatchObject({ limit: 2, offset: 0, nextOffset: 2 });
      const second = (await get(`/api/v1/aggregates/hourly?${RANGE}&limit=2&offset=2`)).body;
      expect(second).toMatchObject({ nextOffset: null });
      expect(second.items.map((r) => r.class)).toEqual(['D40']);
    });

    it('cells: hotspots at the stored resolution, most events first, with their centre', async () => {
      const { status, body } = await get(`/api/v1/aggregates/cells?${RANGE}`);
      expect(status).toBe(200);
      CellPageSchema.parse(body);
      expect(body.items).toEqual([
        { cell: cellOf(A.lat, A.lon, 9), resolution: 9, events: 5, devices: 2, lat: expect.closeTo(A.lat, 2), lon: expect.closeTo(A.lon, 2) },
        { cell: cellOf(B.lat, B.lon, 9), resolution: 9, events: 1, devices: 1, lat: expect.closeTo(B.lat, 2), lon: expect.closeTo(B.lon, 2) },
      ]);
    });

    it('cells: a range of whole days (the daily rollup) counts as the hours do, and asking again gives the same page', async () => {
      const days = `from=${new Date(Date.UTC(2026, 10, 20)).toISOString()}&to=${new Date(Date.UTC(2026, 10, 24)).toISOString()}`;
      const odd = `from=${at(-30 * 60 * MIN - 7 * MIN)}&to=${at(50 * 60 * MIN + 3 * MIN)}`; // whole days plus hours at either end
      const expected = (await get(`/api/v1/aggregates/cells?${RANGE}`)).body.items;
      for (const range of [days, odd]) {
        for (let i = 0; i < 2; i++) {
          const { status, body } = await get(`/api/v1/aggregates/cells?${range}`);
          expect(status).toBe(200);
          expect(body.items).toEqual(expected);
          const geo = await get(`/api/v1/aggregates/cells?${range}&format=geojson&minDevices=2`);
          expect((geo.body as unknown as { features: Array<{ id: string }> }).features.map((f) => f.id)).toEqual([cellOf(A.lat, A.lon, 9)]);
        }
      }
    });

    it('cells: class, minEvents, minDevices, bbox', async () => {
      const cells = async (q: string) => (await get(`/api/v1/aggregates/cells?${RANGE}&${q}`)).body.items.map((r) => [r.cell, r.events]);
      const a = cellOf(A.lat, A.lon, 9);
      const b = cellOf(B.lat, B.lon, 9);
      expect(await cells('class=pothole')).toEqual([
        [a, 4],
        [b, 1],
      ]);
      expect(await cells('minEvents=2')).toEqual([[a, 5]]);
      expect(await cells('minDevices=2')).toEqual([[a, 5]]);
      expect(await cells('minDevices=3')).toEqual([]);
      expect(await cells('bbox=4.85,52.35,4.95,52.40')).toEqual([[a, 5]]);
      expect(await cells('bbox=5.4,51.9,5.6,52.1')).toEqual([[b, 1]]);
      expect(await cells('bbox=0,0,0.01,0.01')).toEqual([]);
      // A box of zero size still finds the cell under it.
      expect(await cells(`bbox=${A.lon},${A.lat},${A.lon},${A.lat}`)).toEqual([[a, 5]]);
    });

    it('cells: a coarser resolution sums into the parent cells (vehicles counted once), as h3-js cellToParent', async () => {
      for (const res of [0, 3, 5, 8]) {
        const parents = new Map<string, number>();
        for (const [p, n] of [
          [cellToParent(cellOf(A.lat, A.lon, 9), res), 5],
          [cellToParent(cellOf(B.lat, B.lon, 9), res), 1],
        ] as const) {
          parents.set(p, (parents.get(p) ?? 0) + n);
        }
        const { body } = await get(`/api/v1/aggregates/cells?${RANGE}&resolution=${res}`);
        expect(body.resolution).toBe(res);
        expect(Object.fromEntries(body.items.map((r) => [r.cell, r.events]))).toEqual(Object.fromEntries(parents));
        if (parents.size === 1) expect(body.items[0]!.devices).toBe(2);
      }
      const bboxed = await get(`/api/v1/aggregates/cells?${RANGE}&resolution=5&bbox=4.85,52.35,4.95,52.40`);
      expect(bboxed.body.items.map((r) => r.cell)).toEqual([cellToParent(cellOf(A.lat, A.lon, 9), 5)]);
    });

    it('cells: a resolution finer than the stored one, or a bbox covering too many cells, is a 400 saying what fits', async () => {
      const fine = await get(`/api/v1/aggregates/cells?${RANGE}&resolution=10`);
      expect(fine.status).toBe(400);
      expect(fine.error.message).toContain('resolution must be an integer from 0 to 9, got 10 — the cells are stored at aggregates.h3Resolution = 9');
      expect((await get(`/api/v1/aggregates/cells?${RANGE}&resolution=16`)).error.message).toContain('resolution must be an integer from 0 to 15');
      const world = await get(`/api/v1/aggregates/cells?${RANGE}&bbox=-180,-90,180,90`);
      expect(world.status).toBe(400);
      expect(world.error.message).toMatch(/^bbox covers about \d+ cells at resolution 9 \(at most 20000\) — zoom in to a smaller bbox, or ask for a coarser resolution \(resolution=\d fits\)$/);
      const fits = Number(/resolution=(\d) fits/.exec(world.error.message)![1]);
      const coarse = await get(`/api/v1/aggregates/cells?${RANGE}&bbox=-180,-90,180,90&resolution=${fits}`);
      expect(coarse.status).toBe(200);
      expect(coarse.body.items.reduce((n, r) => n + (r.events as number), 0)).toBe(6);
    });

    it.each([
      ['bbox=1,2,3', 'four decimal numbers'],
      ['bbox=5,52,4,53', 'min ≤ max; a box across the antimeridian is two requests'],
      ['bbox=0,-91,1,1', 'latitudes −90…90'],
      ['bbox=a,b,c,d', 'four decimal numbers'],
    ])('cells: rejects %s', async (query, message) => {
      const { status, error } = await get(`/api/v1/aggregates/cells?${RANGE}&${query}`);
      expect(status).toBe(400);
      expect(error.message).toContain('bbox must be minLon,minLat,maxLon,maxLat in degrees');
      expect(error.message).toContain(message);
    });

    it('cells: format=geojson is a FeatureCollection of closed cell polygons', async () => {
      const { res, body } = await get(`/api/v1/aggregates/cells?${RANGE}&format=geojson`);
      expect(res.headers.get('Content-Type')).toContain('application/geo+json');
      const fc = CellFeatureCollectionSchema.parse(body);
      expect(fc.features.map((f) => [f.id, f.properties.events])).toEqual([
        [cellOf(A.lat, A.lon, 9), 5],
        [cellOf(B.lat, B.lon, 9), 1],
      ]);
      const ring = fc.features[0]!.geometry.coordinates[0]!;
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      expect(ring[0]![0]).toBeCloseTo(A.lon, 1);
      expect(ring[0]![1]).toBeCloseTo(A.lat, 1);
      expect((await get(`/api/v1/aggregates/cells?${RANGE}&format=csv`)).error.message).toContain('format must be one of json, geojson, got "csv"');
    });
  });
});
