import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import type { Alarm, AlarmPage } from '../../services/alarm-types.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import { envelope } from '../testing/harness.js';
import { LIMIT_CASES, LIMIT_MESSAGE, OFFSET_CASES, OFFSET_MESSAGE } from '../testing/query-cases.js';
import { AlarmPageSchema, AlarmSchema } from './spec.js';

describe.each(testDatabases())('alarms API on $name', (testDb) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = async (query = '', token = t.tokens.read) => {
    const res = await t.app.request(`/api/v1/alarms${query}`, { headers: bearer(token) });
    return { res, status: res.status, body: (await res.json()) as AlarmPage };
  };
  const post = (id: number | string, verb: 'ack' | 'clear', token?: string) =>
    t.app.request(`/api/v1/alarms/${id}/${verb}`, { method: 'POST', headers: token ? bearer(token) : {} });

  it('empty database: an empty page, not an error', async () => {
    const { status, body } = await get();
    expect(status).toBe(200);
    expect(body).toEqual({ items: [], total: 0, limit: 100, offset: 0 });
    expect((await get('?latest=true&status=active_unack')).body.items).toEqual([]);
  });

  it('needs a token: 401 without one or with a bad one', async () => {
    for (const headers of [{}, bearer('rwt_notAValidTokenAtAll000000000000000000000000')]) {
      const res = await t.app.request('/api/v1/alarms', { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
      expect((await envelope(res)).code).toBe('unauthorized');
    }
    expect((await post(1, 'ack')).status).toBe(401);
  });

  it.each(LIMIT_CASES)('limit=%s → accepted: %s', async (limit, ok) => {
    const { status, body } = await get(`?limit=${limit}`);
    if (ok) {
      expect(status).toBe(200);
      expect(body.limit).toBe(Number(limit));
    } else {
      expect(status).toBe(400);
      const error = (body as unknown as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(LIMIT_MESSAGE);
      expect(error.message).toContain(JSON.stringify(limit));
    }
  });

  it.each(OFFSET_CASES)('offset=%s → accepted: %s', async (offset, ok) => {
    const { status, body } = await get(`?offset=${offset}`);
    if (ok) {
      expect(status).toBe(200);
      expect(body.offset).toBe(Number(offset));
    } else {
      expect(status).toBe(400);
      const error = (body as unknown as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('invalid_request');
      expect(error.message).toContain(OFFSET_MESSAGE);
    }
  });

  it('names every bad parameter at once, and rejects unknown or repeated ones', async () => {
    const res = await t.app.request('/api/v1/alarms?limit=0&status=open&latest=yes', { headers: bearer(t.tokens.read) });
    expect(res.status).toBe(400);
    const { message } = await envelope(res);
    expect(message).toContain(LIMIT_MESSAGE);
    expect(message).toContain('status: unknown value "open" — use one or more of active_unack, active_ack, cleared');
    expect(message).toContain('latest must be true or false, got "yes"');

    const typo = await envelope(await t.app.request('/api/v1/alarms?devceId=veh-1', { headers: bearer(t.tokens.read) }));
    expect(typo.message).toContain('unknown query parameter "devceId": this route takes limit, offset, latest, status, severity, type, deviceId');
    const twice = await envelope(await t.app.request('/api/v1/alarms?limit=1&limit=2', { headers: bearer(t.tokens.read) }));
    expect(twice.message).toContain('limit given 2 times; give it once');
  });

  describe('with alarms', () => {
    const ids = {} as Record<'offline1' | 'offline2' | 'severe' | 'hotspot' | 'backlog', number>;
    beforeAll(async () => {
      const a = t.services.alarms;
      ids.offline1 = (await a.raise({ type: 'device_offline', source: 'veh-1', deviceId: 'veh-1', severity: 'warning', message: 'veh-1 offline' })).alarm.id;
      await a.clear(ids.offline1, 'rules');
      ids.offline2 = (await a.raise({ type: 'device_offline', source: 'veh-1', deviceId: 'veh-1', severity: 'warning', message: 'veh-1 offline again' })).alarm.id;
      ids.severe = (await a.raise({ type: 'severe_damage', source: '8c1969c9b2a1dff', deviceId: 'veh-2', severity: 'critical', message: 'D40' })).alarm.id;
      ids.hotspot = (await a.raise({ type: 'hotspot', source: '891969c9b23ffff', severity: 'major', message: 'hotspot' })).alarm.id;
      ids.backlog = (await a.raise({ type: 'outbox_backlog', source: 'veh-2', deviceId: 'veh-2', severity: 'minor', message: 'backlog' })).alarm.id;
    });

    it('lists newest first with total, and every item is an Alarm as the OpenAPI document says', async () => {
      const { status, body } = await get();
      expect(status).toBe(200);
      expect(AlarmPageSchema.parse(body)).toBeTruthy();
      expect(body.total).toBe(5);
      expect(body.items.map((i) => i.id)).toEqual([ids.backlog, ids.hotspot, ids.severe, ids.offline2, ids.offline1]);
    });

    it('pages with limit and offset', async () => {
      const first = await get('?limit=2');
      const second = await get('?limit=2&offset=2');
      const last = await get('?limit=2&offset=4');
      expect([...first.body.items, ...second.body.items, ...last.body.items].map((i) => i.id)).toEqual([ids.backlog, ids.hotspot, ids.severe, ids.offline2, ids.offline1]);
      expect(last.body.items).toHaveLength(1);
      expect((await get('?offset=1000')).body).toMatchObject({ items: [], total: 5 });
    });

    it('latest=true keeps only the newest alarm per (source, type)', async () => {
      const { body } = await get('?latest=true');
      expect(body.total).toBe(4);
      expect(body.items.map((i) => i.id)).not.toContain(ids.offline1);
      expect(body.items.map((i) => i.id)).toContain(ids.offline2);
      // latest first, then the filters: the cleared first alarm is not the current state of veh-1.
      expect((await get('?latest=true&status=cleared')).body.items).toEqual([]);
      expect((await get('?status=cleared')).body.items.map((i) => i.id)).toEqual([ids.offline1]);
    });

    it('filters by status, severity, type and deviceId; lists comma-separated or repeated', async () => {
      expect((await get('?severity=critical')).body.items.map((i) => i.id)).toEqual([ids.severe]);
      expect((await get('?type=hotspot,severe_damage')).body.items.map((i) => i.id)).toEqual([ids.hotspot, ids.severe]);
      expect((await get('?type=hotspot&type=severe_damage')).body.items.map((i) => i.id)).toEqual([ids.hotspot, ids.severe]);
      expect((await get('?deviceId=veh-2')).body.items.map((i) => i.id)).toEqual([ids.backlog, ids.severe]);
      expect((await get('?deviceId=veh-2&severity=minor&status=active_unack')).body.items.map((i) => i.id)).toEqual([ids.backlog]);
      expect((await get('?deviceId=nobody')).body).toMatchObject({ items: [], total: 0 });
      expect((await get('?deviceId=no%20spaces')).status).toBe(400);
    });

    it('ack then clear, recording the token name and the time; wrong transitions are 409 with a clear message', async () => {
      const id = ids.severe;
      const acked = await post(id, 'ack', t.tokens.ack);
      expect(acked.status).toBe(200);
      const a = AlarmSchema.parse(await acked.json()) as Alarm;
      expect(a).toMatchObject({ id, status: 'active_ack', ackedBy: 'test-ack', clearedAt: null });
      expect(Date.now() - Date.parse(a.ackedAt!)).toBeLessThan(60_000);

      const again = await post(id, 'ack', t.tokens.ack);
      expect(again.status).toBe(409);
      const againError = await envelope(again);
      expect(againError.code).toBe('conflict');
      expect(againError.message).toMatch(new RegExp(`^alarm ${id} is already acknowledged \\(by test-ack at .+\\); nothing to do`));

      const cleared = await post(id, 'clear', t.tokens.admin);
      expect(cleared.status).toBe(200);
      expect(await cleared.json()).toMatchObject({ id, status: 'cleared', ackedBy: 'test-ack', clearedBy: 'test-admin', clearedAt: expect.any(String) });

      const clearTwice = await envelope(await post(id, 'clear', t.tokens.ack));
      expect(clearTwice).toMatchObject({ code: 'conflict', message: expect.stringMatching(new RegExp(`^alarm ${id} is already cleared \\(by test-admin at .+\\); nothing to do`)) });
      const ackCleared = await post(id, 'ack', t.tokens.ack);
      expect(ackCleared.status).toBe(409);
      expect((await envelope(ackCleared)).message).toContain(`alarm ${id} is cleared (by test-admin at`);
      expect((await envelope(await post(id, 'ack', t.tokens.ack))).message).toContain('a cleared alarm cannot be acknowledged');
    });

    it('clears an unacknowledged alarm directly', async () => {
      const res = await post(ids.backlog, 'clear', t.tokens.ack);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'cleared', ackedAt: null, clearedBy: 'test-ack' });
    });

    it('a read token may list but not ack or clear: 403 insufficient_scope', async () => {
      for (const verb of ['ack', 'clear'] as const) {
        const res = await post(ids.hotspot, verb, t.tokens.read);
        expect(res.status).toBe(403);
        expect(res.headers.get('WWW-Authenticate')).toContain('scope="ack"');
        expect(await envelope(res)).toMatchObject({ code: 'insufficient_scope', message: `token test-read has scope read; POST /api/v1/alarms/${ids.hotspot}/${verb} needs ack` });
      }
      expect((await t.services.alarms.get(ids.hotspot)).status).toBe('active_unack');
    });

    it('unknown id → 404; an id that is not a positive integer → 400', async () => {
      const missing = await post(999_999, 'ack', t.tokens.ack);
      expect(missing.status).toBe(404);
      expect(await envelope(missing)).toMatchObject({ code: 'not_found', message: 'alarm 999999 not found: check the id against GET /api/v1/alarms' });
      expect((await post(99_999_999_999, 'clear', t.tokens.ack)).status).toBe(404);
      for (const bad of ['abc', '0', '-1', '1.5', '1e3']) {
        const res = await post(bad, 'ack', t.tokens.ack);
        expect(res.status).toBe(400);
        expect((await envelope(res)).message).toContain(`id must be a positive integer (the id of an alarm, from GET /api/v1/alarms), got "${bad}"`);
      }
    });
  });
});
