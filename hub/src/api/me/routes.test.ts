import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/testing/databases.js';
import { bearer, openTestApp, type TestApp } from '../testing/app.js';
import { MeSchema } from './spec.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;

describe('GET /api/v1/me', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp(pglite);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('names the calling token and its scope, and what that scope may do', async () => {
    for (const [scope, may] of [
      ['read', { read: true, ack: false, admin: false }],
      ['ack', { read: true, ack: true, admin: false }],
      ['admin', { read: true, ack: true, admin: true }],
    ] as const) {
      const res = await t.app.request('/api/v1/me', { headers: bearer(t.tokens[scope]) });
      expect(res.status).toBe(200);
      expect(res.headers.get('Cache-Control')).toBe('no-store');
      const body = MeSchema.parse(await res.json());
      expect(body).toMatchObject({ name: `test-${scope}`, scope, may });
      expect(JSON.stringify(body)).not.toContain(t.tokens[scope]);
    }
  });

  it('is 401 without a token or with a revoked one', async () => {
    expect((await t.app.request('/api/v1/me')).status).toBe(401);
    const { token } = await t.services.tokens.create({ name: 'gone', scope: 'ack' });
    await t.services.tokens.revoke('gone');
    const res = await t.app.request('/api/v1/me', { headers: bearer(token) });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/invalid_token/);
  });
});
