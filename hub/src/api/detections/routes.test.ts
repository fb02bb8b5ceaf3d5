import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import type { DetectionItem } from '../../services/ports.js';
import { batchPayload, makeEvent } from '../../services/testing/fixtures.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';

interface Page {
  items: DetectionItem[];
  nextCursor: string | null;
}
interface Envelope {
  error: { code: string; message: string; requestId: string };
}

describe.each(testDatabases())('GET /api/v1/detections on $name', (testDb) => {
  let t: TestApp;
  const eventIds: string[] = [];

  beforeAll(async () => {
    t = await openTestApp(testDb);
    const base = Date.UTC(2026, 10, 22, 8, 0, 0);
    const events = Array.from({ length: 5 }, (_, i) => makeEvent({ ts: new Date(base + i * 60_000).toISOString() }));
    eventIds.push(...events.map((e) => e.eventId));
    await t.services.devices.add('veh-1');
    const out = await t.services.ingest.ingest('veh-1', batchPayload('veh-1', events), 'mqtt');
    expect(out.stored).toBe(5);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (query: string) => {
    const res = await t.app.request(`/api/v1/detections${query}`, { headers: bearer(t.tokens.read) });
    return { status: res.status, body: (await res.json()) as Page & Envelope };
  };

  it('lists newest first with the default limit', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body.items.map((i) => i.eventId)).toEqual([...eventIds].reverse());
    expect(body.nextCursor).toBeNull();
    expect(body.items[0]).toMatchObject({ deviceId: 'veh-1', class: 'pothole', frame: { w: 1280, h: 720 } });
  });

  it('pages with limit and cursor until nextCursor is null', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body } = await get(`?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((i) => i.eventId));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...eventIds].reverse());
  });

  it.each(['0', '1001', 'abc', '-1', '2.5', ''])('rejects limit=%s with a clear 400', async (limit) => {
    const { status, body } = await get(`?limit=${limit}`);
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.message).toContain('limit must be an integer from 1 to 1000');
  });

  it('accepts limit=1000', async () => {
    expect((await get('?limit=1000')).status).toBe(200);
  });

  it('rejects a cursor it did not issue with 400 invalid_cursor', async () => {
    const { status, body } = await get('?cursor=garbage');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_cursor');
    expect(body.error.message).toMatch(/^invalid cursor/);
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
