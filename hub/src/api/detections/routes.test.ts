import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import type { DetectionItem } from '../../services/ports.js';
import { batchPayload, makeEvent } from '../../services/testing/fixtures.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import { envelope } from '../testing/harness.js';
import { LIMIT_CASES, LIMIT_MESSAGE } from '../testing/query-cases.js';
import { DetectionFeatureCollectionSchema, DetectionPageSchema } from './spec.js';

interface Page {
  items: DetectionItem[];
  nextCursor: string | null;
}
interface Envelope {
  error: { code: string; message: string; requestId: string };
}

const BASE = Date.UTC(2026, 10, 22, 8, 0, 0);
const at = (ms: number) => new Date(BASE + ms).toISOString();
const B = { lat: 51.9, lon: 5.2 };

describe.each(testDatabases())('GET /api/v1/detections on $name', (testDb) => {
  let t: TestApp;
  const eventIds: string[] = [];

  beforeAll(async () => {
    t = await openTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (query: string, token: string | null = t.tokens.read) => {
    const res = await t.app.request(`/api/v1/detections${query}`, { headers: token ? bearer(token) : {} });
    return { res, status: res.status, body: (await res.json()) as Page & Envelope };
  };

  /** Every page with limit `limit`, following nextCursor: the event ids in order. */
  const all = async (query: string, limit: number) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(`?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(limit);
      seen.push(...body.items.map((i) => i.eventId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    return { seen, pages };
  };

  it('empty database: an empty page, not an error', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], nextCursor: null });
    expect((await get('?format=geojson')).body).toEqual({ type: 'FeatureCollection', features: [], nextCursor: null });
    expect((await get('?bbox=4,52,5,53&class=D40&minConfidence=0.5&from=2026-01-01')).body).toEqual({ items: [], nextCursor: null });
  });

  it('a NUL (%00) in a filter or a path is a 400, not a database error (found by fuzzing)', async () => {
    for (const url of ['/api/v1/detections?class=D40%00', '/api/v1/aggregates/hourly?class=D40%00', '/api/v1/devices/veh%00']) {
      const res = await t.app.request(url, { headers: bearer(t.tokens.read) });
      expect(res.status, url).toBe(400);
      expect((await envelope(res)).message, url).toContain('contains a NUL character (%00)');
    }
  });

  it('needs a read token: 401 without one', async () => {
    const { res, status, body } = await get('', null);
    expect(status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    expect(body.error.code).toBe('unauthorized');
  });

  describe('paging', () => {
    beforeAll(async () => {
      const events = Array.from({ length: 5 }, (_, i) => makeEvent({ ts: at(i * 60_000) }));
      eventIds.push(...events.map((e) => e.eventId));
      await t.services.devices.add('veh-1');
      const out = await t.services.ingest.ingest('veh-1', batchPayload('veh-1', events), 'mqtt');
      expect(out.stored).toBe(5);
    });

    it('lists newest first with the default limit', async () => {
      const { status, body } = await get('');
      expect(status).toBe(200);
      DetectionPageSchema.parse(body);
      expect(body.items.map((i) => i.eventId)).toEqual([...eventIds].reverse());
      expect(body.nextCursor).toBeNull();
      expect(body.items[0]).toMatchObject({ deviceId: 'veh-1', class: 'pothole', frame: { w: 1280, h: 720 } });
    });

    it('pages with limit and cursor until nextCursor is null', async () => {
      const { seen, pages } = await all('', 2);
      expect(pages).toBe(3);
      expect(seen).toEqual([...eventIds].reverse());
    });

    it.each(LIMIT_CASES)('limit=%s → accepted: %s', async (limit, ok) => {
      const { status, body } = await get(`?limit=${limit}`);
      if (ok) {
        expect(status).toBe(200);
        expect(body.items.length).toBe(Math.min(Number(limit), 5));
      } else {
        expect(status).toBe(400);
        expect(body.error.code).toBe('invalid_request');
        expect(body.error.message).toContain(LIMIT_MESSAGE);
      }
    });

    it('rejects a cursor it did not issue with 400 invalid_cursor', async () => {
      const { status, body } = await get('?cursor=garbage');
      expect(status).toBe(400);
      expect(body.error.code).toBe('invalid_cursor');
      expect(body.error.message).toMatch(/^invalid cursor/);
      expect((await get('?cursor=')).body.error.message).toContain('cursor must not be empty; omit it for the first page');
    });
  });

  describe('filters', () => {
    /** veh-2 at B: D40 0.5, D40 0.7 and three potholes at the same instant (ties broken by id). */
    const v2 = {} as Record<'d40a' | 'd40b' | 'tie1' | 'tie2' | 'tie3', string>;
    beforeAll(async () => {
      await t.services.devices.add('veh-2');
      const events = [
        makeEvent({ ts: at(30 * 60_000), ...B, class: 'D40', confidence: 0.5 }),
        makeEvent({ ts: at(31 * 60_000), ...B, class: 'D40', confidence: 0.7 }),
        makeEvent({ ts: at(40 * 60_000), ...B, confidence: 0.9 }),
        makeEvent({ ts: at(40 * 60_000), ...B, confidence: 0.9 }),
        makeEvent({ ts: at(40 * 60_000), ...B, confidence: 0.9 }),
      ];
      (['d40a', 'd40b', 'tie1', 'tie2', 'tie3'] as const).forEach((name, i) => (v2[name] = events[i]!.eventId));
      expect((await t.services.ingest.ingest('veh-2', batchPayload('veh-2', events), 'mqtt')).stored).toBe(5);
    });

    const ids = async (query: string) => {
      const { status, body } = await get(`?${query}`);
      expect(status, JSON.stringify(body)).toBe(200);
      return body.items.map((i) => i.eventId);
    };

    it('by time range: from inclusive, to exclusive', async () => {
      expect(await ids(`from=${at(60_000)}&to=${at(3 * 60_000)}`)).toEqual([eventIds[2], eventIds[1]]);
      expect(await ids(`from=${at(40 * 60_000)}`)).toHaveLength(3);
      expect(await ids(`to=${at(60_000)}`)).toEqual([eventIds[0]]);
      expect(await ids('from=2026-11-23')).toEqual([]);
    });

    it('by class (comma-separated or repeated), device, confidence', async () => {
      expect(await ids('class=D40')).toEqual([v2.d40b, v2.d40a]);
      expect((await ids('class=D40,pothole')).length).toBe(10);
      expect((await ids('class=D40&class=pothole')).length).toBe(10);
      expect((await ids('deviceId=veh-1')).length).toBe(5);
      expect((await ids('deviceId=veh-2')).length).toBe(5);
      // confidence is a real: 0.7 stored is found by minConfidence=0.7.
      expect(await ids('deviceId=veh-2&minConfidence=0.7&class=D40')).toEqual([v2.d40b]);
      expect((await ids('minConfidence=0.88')).length).toBe(3);
      expect((await ids('minConfidence=0')).length).toBe(10);
      expect(await ids('minConfidence=1')).toEqual([]);
    });

    it('by bbox (minLon,minLat,maxLon,maxLat, edges included)', async () => {
      expect((await ids('bbox=5.1,51.8,5.3,52.0')).length).toBe(5);
      expect((await ids('bbox=4.8,52.3,4.9,52.4')).length).toBe(5); // veh-1 at 52.37021, 4.89517
      expect((await ids(`bbox=${B.lon},${B.lat},${B.lon},${B.lat}`)).length).toBe(5);
      expect(await ids('bbox=-10,-10,-9,-9')).toEqual([]);
    });

    it('keyset paging stays exact with filters and timestamp ties: every match once, in order', async () => {
      const expected = [v2.tie3, v2.tie2, v2.tie1, v2.d40b, v2.d40a];
      for (const limit of [1, 2, 3]) expect((await all('deviceId=veh-2&bbox=5,51,6,52', limit)).seen).toEqual(expected);
      expect((await all(`minConfidence=0.6&from=${at(0)}&to=${at(60 * 60_000)}`, 2)).seen).toEqual([v2.tie3, v2.tie2, v2.tie1, v2.d40b, ...[...eventIds].reverse()]);
    });

    it('format=geojson: a FeatureCollection of [lon, lat] points with nextCursor; pages like json', async () => {
      const { res, body } = await get('?deviceId=veh-2&format=geojson&limit=2');
      expect(res.headers.get('Content-Type')).toContain('application/geo+json');
      const fc = DetectionFeatureCollectionSchema.parse(body);
      expect(fc.features.map((f) => f.id)).toEqual([v2.tie3, v2.tie2]);
      expect(fc.features[0]).toMatchObject({ type: 'Feature', geometry: { type: 'Point', coordinates: [B.lon, B.lat] }, properties: { deviceId: 'veh-2', eventId: v2.tie3 } });
      expect(fc.features[0]!.properties).not.toHaveProperty('lat');
      expect(fc.nextCursor).toEqual(expect.any(String));
      const next = DetectionFeatureCollectionSchema.parse((await get(`?deviceId=veh-2&format=geojson&limit=2&cursor=${encodeURIComponent(fc.nextCursor!)}`)).body);
      expect(next.features.map((f) => f.id)).toEqual([v2.tie1, v2.d40b]);
    });

    it.each([
      ['minConfidence=1.5', 'minConfidence must be a decimal number from 0 to 1, got "1.5"'],
      ['minConfidence=high', 'minConfidence must be a decimal number from 0 to 1, got "high"'],
      ['bbox=5,52,4,53', 'bbox must be minLon,minLat,maxLon,maxLat in degrees (min ≤ max'],
      ['bbox=181,0,182,1', 'longitudes −180…180'],
      ['from=last-week', 'from must be an ISO-8601 time with a zone'],
      ['deviceId=a/b', 'deviceId must be 1–64 characters'],
      ['format=xml', 'format must be one of json, geojson, got "xml"'],
      ['class=', 'class must be one or more names'],
      ['sort=asc', 'unknown query parameter "sort": this route takes from, to, class, deviceId, bbox, minConfidence, limit, cursor, format'],
    ])('rejects %s with a 400 naming the fix', async (query, message) => {
      const { status, body } = await get(`?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).toContain(message);
    });
  });
});

describe('a failing database', () => {
  it('is a 500 envelope without internals', async () => {
    const t = await openTestApp(testDatabases().find((d) => d.name === 'pglite')!);
    await t.database.close();
    const res = await t.app.request('/api/v1/detections', { headers: { ...bearer(t.tokens.read), 'X-Request-Id': 'req-500' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'internal', message: 'internal error; the hub log has the details under this requestId', requestId: 'req-500' },
    });
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
  });
});
