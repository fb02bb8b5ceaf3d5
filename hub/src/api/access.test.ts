import type { Context } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, testLogger } from '../db/testing/databases.js';
import type { AccessOptions } from './access.js';
import { socketPeerAddress } from './middleware/ip-allowlist/index.js';
import { startHttpServer, type RunningHttpServer } from './server.js';
import { adminHeaders, bearer, openTestApp, type TestApp } from './testing/app.js';
import { envelope } from './testing/harness.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;
const PEER = 'x-test-peer';

/** The app as `serve` builds it, with the peer address taken from a test header (app.request has no socket). */
async function open(access: AccessOptions = {}): Promise<TestApp> {
  return openTestApp(pglite, { access: { peerAddress: socketPeerAddress((c: Context) => c.req.header(PEER)), ...access } });
}

describe('REST API access control (createApp)', () => {
  let t: TestApp;
  let now = 5_000_000;
  beforeAll(async () => {
    t = await open({
      allowedIps: ['192.0.2.0/24', '2001:db8::/32'],
      trustedProxies: ['10.0.0.0/8'],
      cors: { origins: ['https://ops.example.org'] },
      rateLimit: { perMinute: 5 },
      clock: () => now,
    });
    // A route that fails with internals in its error, to check they never reach the client.
    t.app.get('/api/v1/boom', () => {
      throw new Error('connection to 10.1.2.3:5432 failed at Socket.<anonymous> (/srv/hub/dist/db/client.js:42:7)');
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const request = (path: string, { peer = '192.0.2.10', token, method = 'GET', headers = {} }: { peer?: string; token?: string; method?: string; headers?: Record<string, string> } = {}) =>
    t.app.request(path, { method, headers: { [PEER]: peer, ...(token ? bearer(token) : {}), ...headers } });

  it('a valid token from an allowed address → 200', async () => {
    const res = await request('/api/v1/detections', { token: t.tokens.read });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [], nextCursor: null });
    expect((await request('/api/v1/detections', { token: t.tokens.admin, peer: '2001:db8::9' })).status).toBe(200);
  });

  it('no token or an invalid token → 401 unauthorized with WWW-Authenticate: Bearer and a requestId', async () => {
    for (const token of [undefined, 'rwt_definitelyNotAValidTokenAtAll0000000000000']) {
      const res = await request('/api/v1/detections', { token, headers: { 'X-Request-Id': 'req-401' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
      expect(await envelope(res)).toMatchObject({ code: 'unauthorized', requestId: 'req-401' });
    }
  });

  it('a revoked token → 401 at once', async () => {
    const { token } = await t.services.tokens.create({ name: 'to-revoke', scope: 'read' });
    expect((await request('/api/v1/detections', { token })).status).toBe(200);
    await t.services.tokens.revoke('to-revoke');
    expect((await request('/api/v1/detections', { token })).status).toBe(401);
  });

  it('an address outside ALLOWED_IPS → 403 forbidden_address, even with a valid token', async () => {
    const res = await request('/api/v1/detections', { token: t.tokens.admin, peer: '198.51.100.7', headers: { 'X-Request-Id': 'req-403' } });
    expect(res.status).toBe(403);
    expect(await envelope(res)).toEqual({ code: 'forbidden_address', message: expect.stringContaining('198.51.100.7'), requestId: 'req-403' });
  });

  it('X-Forwarded-For from an untrusted peer is ignored; from a trusted proxy it is honoured', async () => {
    const spoofed = await request('/api/v1/detections', { token: t.tokens.read, peer: '198.51.100.7', headers: { 'X-Forwarded-For': '192.0.2.10' } });
    expect(spoofed.status).toBe(403);
    const proxied = await request('/api/v1/detections', { token: t.tokens.read, peer: '10.0.0.2', headers: { 'X-Forwarded-For': '192.0.2.10' } });
    expect(proxied.status).toBe(200);
    const proxiedOutside = await request('/api/v1/detections', { token: t.tokens.read, peer: '10.0.0.2', headers: { 'X-Forwarded-For': '192.0.2.10, 198.51.100.7' } });
    expect(proxiedOutside.status).toBe(403);
  });

  it('a token without the scope → 403 insufficient_scope (writes need ack)', async () => {
    const res = await request('/api/v1/detections', { method: 'DELETE', token: t.tokens.read });
    expect(res.status).toBe(403);
    expect(await envelope(res)).toMatchObject({ code: 'insufficient_scope', requestId: expect.any(String) });
    // With the scope, the request reaches routing (no such route: 404).
    const withScope = await request('/api/v1/detections', { method: 'DELETE', token: t.tokens.ack, headers: { 'X-Request-Id': 'req-404' } });
    expect(withScope.status).toBe(404);
    expect(await envelope(withScope)).toEqual({ code: 'not_found', message: 'no route for DELETE /api/v1/detections', requestId: 'req-404' });
  });

  it('past the rate limit → 429 rate_limited with Retry-After, per token', async () => {
    const { token } = await t.services.tokens.create({ name: 'busy', scope: 'read' });
    for (let i = 0; i < 5; i++) expect((await request('/api/v1/detections', { token })).status).toBe(200);
    now += 15_000;
    const res = await request('/api/v1/detections', { token, headers: { 'X-Request-Id': 'req-429' } });
    expect(res.status).toBe(429);
    expect(res.headers.get('Retry-After')).toBe('45');
    expect(await envelope(res)).toMatchObject({ code: 'rate_limited', requestId: 'req-429' });
    expect((await request('/api/v1/detections', { token: t.tokens.admin })).status).toBe(200);
    now += 45_000;
    expect((await request('/api/v1/detections', { token })).status).toBe(200);
  });

  it('a thrown error → 500 internal envelope with the requestId and without internals or a stack', async () => {
    const res = await request('/api/v1/boom', { token: t.tokens.read, headers: { 'X-Request-Id': 'req-500' } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal', message: 'internal error; the hub log has the details under this requestId', requestId: 'req-500' } });
    expect(text).not.toMatch(/10\.1\.2\.3|client\.js|at .*:\d+/);
    expect(res.headers.get('X-Request-Id')).toBe('req-500');
  });

  it('answers a CORS preflight for an allowed origin before authentication, and not for another origin', async () => {
    const preflight = (origin: string) =>
      request('/api/v1/detections', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' } });
    const allowed = await preflight('https://ops.example.org');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('Access-Control-Allow-Origin')).toBe('https://ops.example.org');
    expect(allowed.headers.get('Access-Control-Allow-Headers')).toContain('Authorization');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('Access-Control-Allow-Origin')).toBeNull();
    // Error answers carry the CORS headers too, so a browser app can read the envelope.
    const denied = await request('/api/v1/detections', { headers: { Origin: 'https://ops.example.org' } });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('Access-Control-Allow-Origin')).toBe('https://ops.example.org');
  });

  it('leaves the health probes open to any address without a token', async () => {
    expect((await request('/health', { peer: '198.51.100.7' })).status).toBe(200);
    expect((await request('/health/ready', { peer: '198.51.100.7' })).status).toBe(200);
  });

  it('/metrics needs no token by default but an allowed address', async () => {
    expect((await request('/metrics')).status).toBe(200);
    expect((await request('/metrics', { peer: '198.51.100.7' })).status).toBe(403);
  });

  it('the local admin API keeps its own token and is not subject to ALLOWED_IPS', async () => {
    expect((await t.app.request('/admin/v1/devices', { headers: { ...adminHeaders(), [PEER]: '127.0.0.1' } })).status).toBe(200);
    expect((await t.app.request('/admin/v1/devices', { headers: { ...bearer(t.tokens.admin), [PEER]: '127.0.0.1' } })).status).toBe(401);
  });

  it('exempts the device-credential uplink route from tokens, the allowlist and the rate limit', async () => {
    // From outside ALLOWED_IPS and without an API token, the request reaches the route, which asks for device credentials.
    const res = await request('/api/v1/devices/veh-1/events', { method: 'POST', peer: '198.51.100.7' });
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toMatch(/^Basic /);
    expect((await envelope(res)).message).toMatch(/^missing device credentials/);
    expect(res.headers.get('RateLimit-Limit')).toBeNull();
    // Other device routes are ordinary API routes.
    expect((await request('/api/v1/devices/veh-1', { peer: '192.0.2.10' })).status).toBe(401);
  });
});

describe('metrics.requireToken', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await open({ metrics: { requireToken: true } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('asks /metrics for a read token', async () => {
    expect((await t.app.request('/metrics')).status).toBe(401);
    expect((await t.app.request('/metrics', { headers: bearer(t.tokens.read) })).status).toBe(200);
  });

  it('with no access options at all every address may call, and tokens are still required', async () => {
    expect((await t.app.request('/api/v1/detections', { headers: { [PEER]: '198.51.100.7', ...bearer(t.tokens.read) } })).status).toBe(200);
    expect((await t.app.request('/api/v1/detections')).status).toBe(401);
  });
});

describe('over a real socket (the address comes from the connection)', () => {
  let t: TestApp;
  let server: RunningHttpServer;
  beforeAll(async () => {
    t = await openTestApp(pglite, { access: { allowedIps: ['192.0.2.0/24'], trustedProxies: ['127.0.0.1/32', '::1'] } });
    server = await startHttpServer({ app: t.app, host: '127.0.0.1', port: 0, logger: testLogger() });
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('refuses 127.0.0.1 outside the list, believes X-Forwarded-For from the trusted loopback proxy, and keeps /health open', async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const auth = { Authorization: `Bearer ${t.tokens.read}` };
    const direct = await fetch(`${url}/api/v1/detections`, { headers: auth });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: { message: string } }).error.message).toContain('address 127.0.0.1 is not in');
    const proxied = await fetch(`${url}/api/v1/detections`, { headers: { ...auth, 'X-Forwarded-For': '192.0.2.50' } });
    expect(proxied.status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });
});
