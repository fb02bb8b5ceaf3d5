import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { adminHeaders, openTestApp, type TestApp } from '../testing/app.js';

interface Envelope {
  error: { code: string; message: string; requestId: string };
}

describe.each(testDatabases())('admin routes on $name', (testDb) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(testDb);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown, headers = adminHeaders()) =>
    t.app.request('/admin/v1/devices', { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('refuses a missing or wrong bearer token with 401', async () => {
    const missing = await t.app.request('/admin/v1/devices');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('WWW-Authenticate')).toContain('Bearer');
    expect(((await missing.json()) as Envelope).error.code).toBe('unauthorized');
    const wrong = await post({ deviceId: 'veh-x' }, adminHeaders('not-the-right-token-at-all'));
    expect(wrong.status).toBe(401);
    expect((await t.app.request('/admin/v1/devices', { headers: { Authorization: 'Basic abc' } })).status).toBe(401);
  });

  it('adds a device and returns its secret once; the secret verifies', async () => {
    const res = await post({ deviceId: 'veh-0042' });
    expect(res.status).toBe(201);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as { deviceId: string; secret: string };
    expect(body).toEqual({ deviceId: 'veh-0042', secret: expect.any(String) });
    expect(await t.services.devices.verify('veh-0042', body.secret)).toBe(true);
  });

  it('refuses to add an existing device unless rotate is set', async () => {
    await post({ deviceId: 'veh-rot' });
    const again = await post({ deviceId: 'veh-rot' });
    expect(again.status).toBe(400);
    expect(((await again.json()) as Envelope).error.message).toContain('already exists');
    const rotated = (await (await post({ deviceId: 'veh-rot', rotate: true })).json()) as { secret: string };
    expect(await t.services.devices.verify('veh-rot', rotated.secret)).toBe(true);
  });

  it.each([
    ['an invalid device id', { deviceId: 'bad/id' }, 'invalid_request'],
    ['an unknown key', { deviceId: 'veh-1', extra: 1 }, 'invalid_request'],
    ['a non-JSON body', 'not json', 'invalid_json'],
  ])('answers 400 to %s', async (_what, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as Envelope).error.code).toBe(code);
  });

  it('creates a token (shown once, no-store), lists it without the token, revokes it by name; errors are envelopes', async () => {
    const created = await t.app.request('/admin/v1/tokens', { method: 'POST', headers: adminHeaders(), body: JSON.stringify({ name: 'grafana', scope: 'read' }) });
    expect(created.status).toBe(201);
    expect(created.headers.get('Cache-Control')).toBe('no-store');
    const body = (await created.json()) as { token: string; name: string; scope: string; prefix: string };
    expect(body).toMatchObject({ name: 'grafana', scope: 'read', token: expect.stringMatching(/^rwt_/), prefix: body.token.slice(0, 12) });
    expect(await t.services.tokens.verify(body.token)).toMatchObject({ name: 'grafana' });

    const list = (await (await t.app.request('/admin/v1/tokens', { headers: adminHeaders() })).json()) as { items: Array<Record<string, unknown>> };
    const item = list.items.find((i) => i.name === 'grafana')!;
    expect(item).toMatchObject({ scope: 'read', revokedAt: null });
    expect(item).not.toHaveProperty('token');

    const revoked = await t.app.request('/admin/v1/tokens/grafana', { method: 'DELETE', headers: adminHeaders() });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();
    expect(await t.services.tokens.verify(body.token)).toBeNull();

    const missing = await t.app.request('/admin/v1/tokens/nobody', { method: 'DELETE', headers: adminHeaders() });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as Envelope).error.code).toBe('not_found');
    const dup = await t.app.request('/admin/v1/tokens', { method: 'POST', headers: adminHeaders(), body: JSON.stringify({ name: 'grafana', scope: 'ack' }) });
    expect(dup.status).toBe(409);
    const bad = await t.app.request('/admin/v1/tokens', { method: 'POST', headers: adminHeaders(), body: JSON.stringify({ name: 'x', scope: 'root' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Envelope).error.code).toBe('invalid_request');
    // An API token is not the admin token.
    expect((await t.app.request('/admin/v1/tokens', { headers: { Authorization: `Bearer ${t.tokens.admin}` } })).status).toBe(401);
  });

  it('lists devices', async () => {
    const res = await t.app.request('/admin/v1/devices', { headers: adminHeaders() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ deviceId: string; state: string }> };
    expect(body.items.map((d) => d.deviceId)).toEqual(expect.arrayContaining(['veh-0042', 'veh-rot']));
    expect(body.items.find((d) => d.deviceId === 'veh-0042')).toMatchObject({ state: 'unknown', lastSeenAt: null });
  });
});
