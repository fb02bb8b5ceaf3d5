import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { openTestApp, type TestApp } from '../testing/app.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;

describe('health routes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(pglite);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('GET /health answers 200 ok', async () => {
    const res = await t.app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /health/ready is 200 when database and broker are up', async () => {
    t.readiness.db = true;
    t.readiness.broker = true;
    const res = await t.app.request('/health/ready');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { db: true, broker: true } });
  });

  it('GET /health/ready is 503 naming the part that is not ready', async () => {
    t.readiness.db = true;
    t.readiness.broker = false;
    const res = await t.app.request('/health/ready', { headers: { 'X-Request-Id': 'probe-1' } });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: 'not_ready', message: 'not ready: MQTT broker not ready', requestId: 'probe-1' },
      checks: { db: true, broker: false },
    });
    t.readiness.db = false;
    const body = (await (await t.app.request('/health/ready')).json()) as { error: { message: string } };
    expect(body.error.message).toBe('not ready: database not reachable, MQTT broker not ready');
    t.readiness.db = true;
    t.readiness.broker = true;
  });

  it('an unknown route is a 404 in the error envelope, with a request id', async () => {
    const res = await t.app.request('/nope');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toEqual({ code: 'not_found', message: 'no route for GET /nope', requestId: expect.any(String) });
    expect(res.headers.get('X-Request-Id')).toBe(body.error.requestId);
  });
});
