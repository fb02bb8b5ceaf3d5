import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bboxParam, boolParam, enumListParam, intParam, limitParam, offsetParam, paramMeta, parsePath, parseQuery, pathSchema, querySchema, timeParam } from './query.js';
import { envelope, middlewareHarness } from './testing/harness.js';

const Schema = querySchema({
  limit: limitParam('things'),
  offset: offsetParam('things'),
  at: timeParam('at', 'A time.'),
  on: boolParam('on', { fallback: false, description: 'A switch.' }),
  kind: enumListParam('kind', ['a', 'b', 'c'], 'Kinds.'),
  box: bboxParam('A box.'),
  res: intParam('res', { min: 0, max: 15, fallback: undefined, description: 'A resolution.' }),
});

const app = middlewareHarness((a) => a.get('/q', (c) => c.json(parseQuery(c, Schema))));
const query = async (qs: string) => {
  const res = await app.request(`/q${qs}`);
  return res.status === 200 ? { ok: true as const, value: (await res.json()) as Record<string, unknown> } : { ok: false as const, error: await envelope(res) };
};

describe('query parameters', () => {
  it('applies defaults and converts values', async () => {
    expect(await query('')).toEqual({ ok: true, value: { limit: 100, offset: 0, on: false } });
    const r = await query('?limit=5&offset=10&at=2026-11-22&on=true&kind=b,a&kind=b&box=1,2,3,4&res=0');
    expect(r).toEqual({
      ok: true,
      value: { limit: 5, offset: 10, at: '2026-11-22T00:00:00.000Z', on: true, kind: ['b', 'a'], box: { minLon: 1, minLat: 2, maxLon: 3, maxLat: 4 }, res: 0 },
    });
  });

  it.each([
    ['?at=2026-11-22T08:00:00.123456+01:00', '2026-11-22T07:00:00.123Z'],
    ['?at=2026-11-22T08:00:00.123456%2B01:00', '2026-11-22T07:00:00.123Z'],
    ['?at=2026-11-22T08:00:00-02:30', '2026-11-22T10:30:00.000Z'],
    ['?at=2026-11-22T08:00:00Z', '2026-11-22T08:00:00.000Z'],
  ])('reads times with a zone: %s', async (qs, iso) => {
    expect(await query(qs)).toMatchObject({ ok: true, value: { at: iso } });
  });

  it('names every problem at once, each with the allowed values and what was sent', async () => {
    const r = await query('?limit=1e3&offset=-5&at=now&on=1&kind=d&box=1,2&res=99&extra=1');
    expect(r.ok).toBe(false);
    const message = r.ok ? '' : r.error.message;
    expect(message).toMatch(/^invalid query: /);
    for (const part of [
      'limit must be an integer from 1 to 1000, got "1e3"',
      'offset must be an integer from 0 to 100000, got "-5" — for deeper pages narrow the filters',
      'at must be an ISO-8601 time with a zone such as 2026-11-22T08:00:00Z (or a date such as 2026-11-22, midnight UTC), got "now"',
      'on must be true or false, got "1"',
      'kind: unknown value "d" — use one or more of a, b, c (comma-separated or repeated)',
      'box must be minLon,minLat,maxLon,maxLat in degrees (four decimal numbers)',
      'res must be an integer from 0 to 15, got "99"',
      'unknown query parameter "extra": this route takes limit, offset, at, on, kind, box, res',
    ]) {
      expect(message).toContain(part);
    }
    expect(r.ok ? 200 : r.error.code).toBe('invalid_request');
  });

  it('a non-list parameter given twice is an error; a list parameter may repeat', async () => {
    expect(await query('?on=true&on=false')).toMatchObject({ ok: false, error: { message: 'invalid query: on given 2 times; give it once' } });
    expect(await query('?kind=a&kind=c')).toMatchObject({ ok: true, value: { kind: ['a', 'c'] } });
  });

  it('refuses a NUL (%00) in any value or path parameter (found by fuzzing: Postgres refused it in a filter, a 500)', async () => {
    expect(await query('?kind=a%00')).toMatchObject({ ok: false, error: { code: 'invalid_request', message: 'invalid query: kind contains a NUL character (%00)' } });
    const paths = middlewareHarness((a) => a.get('/p/:id', (c) => c.json(parsePath(c, pathSchema({ id: z.string() })))));
    const res = await paths.request('/p/veh%00');
    expect(res.status).toBe(400);
    expect(await envelope(res)).toMatchObject({ code: 'invalid_request', message: 'invalid path: id contains a NUL character (%00)' });
    expect((await paths.request('/p/veh-1')).status).toBe(200);
  });

  it('names of Object.prototype members are unknown parameters like any other (found by fuzzing: they were a 500)', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(await query(`?${key}=0`)).toMatchObject({ ok: false, error: { code: 'invalid_request', message: expect.stringContaining(`unknown query parameter "${key}"`) } });
    }
    expect(await query('?__proto__=x&limit=5')).toMatchObject({ ok: false, error: { message: expect.stringContaining('unknown query parameter "__proto__"') } });
  });

  it('refuses absurdly long values', async () => {
    expect(await query(`?kind=${'a,'.repeat(2000)}`)).toMatchObject({ ok: false, error: { message: expect.stringContaining('kind is longer than 2048 characters') } });
  });

  it('carries the OpenAPI description and JSON Schema of each parameter', () => {
    expect(paramMeta(Schema.shape.limit)).toMatchObject({ description: expect.stringContaining('1–1000'), openapi: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } });
    expect(paramMeta(Schema.shape.res)?.openapi).toEqual({ type: 'integer', minimum: 0, maximum: 15 });
    expect(paramMeta(Schema.shape.kind)).toMatchObject({ list: true, openapi: { type: 'array', minItems: 1 } });
    expect(paramMeta(Schema.shape.at)?.openapi).toEqual({ type: 'string', format: 'date-time' });
  });
});
