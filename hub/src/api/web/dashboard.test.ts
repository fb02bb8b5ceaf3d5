import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Context } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, testLogger } from '../../db/testing/databases.js';
import { createApp, type CreateAppOptions } from '../app.js';
import { socketPeerAddress } from '../middleware/ip-allowlist/index.js';
import { bearer, openTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../testing/app.js';
import { dashboardCsp, tileSource } from './page.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;
const INDEX = '<!doctype html><html lang="en"><head><title>roadwatch</title><script type="module" src="/assets/index-AbC123.js"></script></head><body><main></main></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});\n`;

describe('the dashboard at /', () => {
  let t: TestApp;
  let dir: string;
  let built: string;
  const app = (web: CreateAppOptions['web'], access?: CreateAppOptions['access']) =>
    createApp({ services: t.services, readiness: () => ({ db: true, broker: true }), registry: new Registry(), adminToken: TEST_ADMIN_TOKEN, logger: testLogger(), web, ...(access ? { access } : {}) });

  beforeAll(async () => {
    t = await openTestApp(pglite);
    dir = mkdtempSync(join(tmpdir(), 'rw-web-'));
    built = join(dir, 'web');
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(join(built, 'index.html'), INDEX);
    writeFileSync(join(built, 'assets', 'index-AbC123.js'), SCRIPT);
    writeFileSync(join(built, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  it('serves index.html at / with no token: HTML, revalidated (no-cache + ETag), a strict CSP, the basemap config injected', async () => {
    const a = app({ dir: built, map: { tilesUrl: 'https://{s}.tiles.example.org/{z}/{x}/{y}.png', tilesAttribution: '© "Tiles" <Example>' } });
    for (const path of ['/', '/index.html']) {
      const res = await a.request(path, { headers: bearer('rwt_not_a_token') });
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('Cache-Control')).toBe('no-cache');
      expect(res.headers.get('ETag')).toMatch(/^"[\w-]+"$/);
      expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
      const csp = res.headers.get('Content-Security-Policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain('img-src \'self\' data: blob: https://*.tiles.example.org');
      const html = await res.text();
      const meta = /<meta name="roadwatch-config" content="([^"]*)">\n<\/head>/.exec(html);
      expect(meta, html).not.toBeNull();
      const config = JSON.parse(meta![1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
      expect(config).toEqual({ tilesUrl: 'https://{s}.tiles.example.org/{z}/{x}/{y}.png', tilesAttribution: '© "Tiles" <Example>', tilesMaxZoom: 19 });
      expect(html).not.toContain('<Example>');
    }
    const first = await a.request('/');
    const again = await a.request('/', { headers: { 'If-None-Match': first.headers.get('ETag')! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('serves hashed assets as immutable with their content type, gzipped when asked; other files revalidated', async () => {
    const a = app({ dir: built });
    const plain = await a.request('/assets/index-AbC123.js');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('Content-Security-Policy')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);
    const gz = await a.request('/assets/index-AbC123.js', { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(gz.headers.get('Content-Encoding')).toBe('gzip');
    expect(gz.headers.get('Vary')).toBe('Accept-Encoding');
    expect(gunzipSync(Buffer.from(await gz.arrayBuffer())).toString()).toBe(SCRIPT);
    const icon = await a.request('/favicon.svg');
    expect(icon.headers.get('Content-Type')).toBe('image/svg+xml');
    expect(icon.headers.get('Cache-Control')).toBe('no-cache');
    const head = await a.request('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(await head.text()).toBe('');
  });

  it('leaves every other route alone: the API still wants a token, probes, metrics and the API description answer as before', async () => {
    const a = app({ dir: built });
    expect((await a.request('/api/v1/alarms')).status).toBe(401);
    expect((await a.request('/api/v1/alarms', { headers: bearer(t.tokens.read) })).status).toBe(200);
    expect((await a.request('/health')).status).toBe(200);
    expect((await a.request('/metrics')).status).toBe(200);
    expect((await a.request('/openapi.json')).headers.get('Content-Type')).toContain('application/json');
    expect((await a.request('/docs')).headers.get('Content-Type')).toContain('text/html');
    const missing = await a.request('/assets/nope-123.js');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await a.request('/', { method: 'POST' })).status).toBe(404);
  });

  it('without a build the hub still serves: / is a page saying to run the build, the API works', async () => {
    const a = app({ dir: join(dir, 'not-built') });
    const res = await a.request('/');
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('The dashboard is not built');
    expect(html).toContain('npm run build');
    expect(html).not.toMatch(/<script/i);
    expect((await a.request('/assets/index-AbC123.js')).status).toBe(404);
    expect((await a.request('/api/v1/alarms', { headers: bearer(t.tokens.read) })).status).toBe(200);
    expect((await a.request('/health')).status).toBe(200);
  });

  it('stays behind the address allowlist, like the API description', async () => {
    const a = app({ dir: built }, { allowedIps: ['192.0.2.0/24'], peerAddress: socketPeerAddress((c: Context) => c.req.header('x-test-peer')) });
    expect((await a.request('/', { headers: { 'x-test-peer': '192.0.2.7' } })).status).toBe(200);
    expect((await a.request('/', { headers: { 'x-test-peer': '198.51.100.7' } })).status).toBe(403);
  });
});

describe('the dashboard CSP', () => {
  it('allows tiles from the configured server only', () => {
    expect(tileSource('')).toBeNull();
    expect(tileSource('/tiles/{z}/{x}/{y}.png')).toBeNull();
    expect(tileSource('https://tile.openstreetmap.org/{z}/{x}/{y}.png')).toBe('https://tile.openstreetmap.org');
    expect(tileSource('https://{s}.tile.example.org/{z}/{x}/{y}.png')).toBe('https://*.tile.example.org');
    expect(tileSource('http://127.0.0.1:8081/{z}/{x}/{y}.png')).toBe('http://127.0.0.1:8081');
    expect(tileSource('https://tiles-{s}.example.org/{z}/{x}/{y}.png')).toBe('https:');
    expect(dashboardCsp('')).toContain("img-src 'self' data: blob:;");
    expect(dashboardCsp('')).toContain("frame-ancestors 'none'");
  });
});
