import { describe, expect, it } from 'vitest';
import type { TokenIdentity } from '../../../services/tokens.js';
import { envelope, middlewareHarness } from '../../testing/harness.js';
import { bearerAuth, requireScope } from './index.js';

const TOKENS: Record<string, TokenIdentity> = {
  'rwt_read': { id: '1', name: 'reader', scope: 'read' },
  'rwt_ack': { id: '2', name: 'operator', scope: 'ack' },
  'rwt_admin': { id: '3', name: 'root', scope: 'admin' },
};

describe('bearerAuth', () => {
  const seen: string[] = [];
  const app = middlewareHarness((a) => {
    a.use(
      '/api/*',
      bearerAuth({
        verify: async (token) => {
          seen.push(token);
          return TOKENS[token] ?? null;
        },
        skip: (c) => c.req.path === '/api/device-uplink',
      }),
    );
    a.get('/api/things', (c) => c.json({ by: c.get('token') }));
    a.post('/api/things/ack', (c) => c.json({ ackedBy: c.get('token')?.name }));
    a.delete('/api/things', requireScope('admin'), (c) => c.json({ deletedBy: c.get('token')?.name }));
    a.post('/api/device-uplink', (c) => c.json({ token: c.get('token') ?? null }));
  });
  const auth = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

  it('lets a valid token through and puts its identity on the context', async () => {
    const res = await app.request('/api/things', auth('rwt_read'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ by: { id: '1', name: 'reader', scope: 'read' } });
    // Scheme is case-insensitive.
    expect((await app.request('/api/things', { headers: { Authorization: 'bearer rwt_read' } })).status).toBe(200);
  });

  it.each([
    ['no Authorization header', {}, 'missing API token', 'Bearer realm="roadwatch-hub"'],
    ['another scheme', { Authorization: 'Basic dXNlcjpwdw==' }, 'malformed Authorization header', 'Bearer realm="roadwatch-hub"'],
    ['an empty bearer', { Authorization: 'Bearer ' }, 'malformed Authorization header', 'Bearer realm="roadwatch-hub"'],
    ['an unknown or revoked token', { Authorization: 'Bearer rwt_nope' }, 'invalid or revoked API token', 'Bearer realm="roadwatch-hub", error="invalid_token"'],
  ])('answers %s with 401 unauthorized and a Bearer challenge', async (_what, headers, message, challenge) => {
    const res = await app.request('/api/things', { headers });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe(challenge);
    const error = await envelope(res);
    expect(error.code).toBe('unauthorized');
    expect(error.message).toContain(message);
  });

  it('needs read for GET and ack for other methods: a read token POSTing is 403 insufficient_scope', async () => {
    const res = await app.request('/api/things/ack', { method: 'POST', ...auth('rwt_read') });
    expect(res.status).toBe(403);
    expect(res.headers.get('WWW-Authenticate')).toContain('error="insufficient_scope", scope="ack"');
    const error = await envelope(res);
    expect(error).toEqual({ code: 'insufficient_scope', message: 'token reader has scope read; POST /api/things/ack needs ack', requestId: expect.any(String) });
    expect(await (await app.request('/api/things/ack', { method: 'POST', ...auth('rwt_ack') })).json()).toEqual({ ackedBy: 'operator' });
    expect((await app.request('/api/things/ack', { method: 'POST', ...auth('rwt_admin') })).status).toBe(200);
    expect((await app.request('/api/things', auth('rwt_admin'))).status).toBe(200);
  });

  it('lets a route raise the scope with requireScope', async () => {
    expect((await app.request('/api/things', { method: 'DELETE', ...auth('rwt_ack') })).status).toBe(403);
    const res = await app.request('/api/things', { method: 'DELETE', ...auth('rwt_admin') });
    expect(await res.json()).toEqual({ deletedBy: 'root' });
  });

  it('skips what skip() says without looking at any token', async () => {
    seen.length = 0;
    const res = await app.request('/api/device-uplink', { method: 'POST', headers: { Authorization: 'Bearer rwt_read' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: null });
    expect(seen).toEqual([]);
  });
});

describe('requireScope without bearerAuth in front', () => {
  it('is a 401, not a crash', async () => {
    const app = middlewareHarness((a) => a.get('/x', requireScope('read'), (c) => c.text('no')));
    const res = await app.request('/x');
    expect(res.status).toBe(401);
    expect((await envelope(res)).code).toBe('unauthorized');
  });
});
