import type { Context } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases, testLogger } from '../../db/testing/databases.js';
import type { Diagnostics } from '../../services/diagnostics.js';
import { PUBLIC_DOC_PATHS } from '../access.js';
import { AlarmsQuerySchema } from '../alarms/spec.js';
import { createApp } from '../app.js';
import { socketPeerAddress } from '../middleware/ip-allowlist/index.js';
import { bearer, openTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../testing/app.js';
import type { OpenApiDocument, OpenApiOperation } from './document.js';
import { API_OPERATIONS } from './operations.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;
const METHODS = ['get', 'post', 'put', 'delete', 'patch'];

describe('GET /openapi.json and GET /docs', () => {
  let t: TestApp;
  let app: ReturnType<typeof createApp>;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    t = await openTestApp(pglite);
    // The app as serve builds it, with every optional route (diagnostics) switched on.
    app = createApp({
      services: t.services,
      readiness: () => ({ db: true, broker: true }),
      registry: new Registry(),
      adminToken: TEST_ADMIN_TOKEN,
      logger: testLogger(),
      diagnostics: async () => ({}) as Diagnostics,
    });
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('application/json');
    doc = JSON.parse(await res.text()) as OpenApiDocument;
  });
  afterAll(async () => {
    await t?.close();
  });

  const operations = (): Array<{ path: string; method: string; op: OpenApiOperation }> =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

  it('is public: no token needed, and a bad one does not matter', async () => {
    for (const path of PUBLIC_DOC_PATHS) {
      expect((await app.request(path)).status).toBe(200);
      expect((await app.request(path, { headers: bearer('rwt_bogus') })).status).toBe(200);
    }
  });

  it('is an OpenAPI 3.1 document with paths, the bearer security scheme and unique operation ids', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'roadwatch hub API', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { op } of operations()) {
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      expect(op.summary).toBeTruthy();
    }
  });

  it('lists every route the app serves, and only those', () => {
    const served = new Set(
      app.routes
        .filter((r) => METHODS.includes(r.method.toLowerCase()))
        .map((r) => `${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`),
    );
    const documented = new Set(operations().map((o) => `${o.method.toUpperCase()} ${o.path}`));
    const undocumented = [...served].filter((r) => !documented.has(r));
    expect(undocumented, 'routes missing from the OpenAPI document: describe them in hub/src/api/openapi/hub-operations.ts or the feature’s spec.ts').toEqual([]);
    expect([...documented].filter((r) => !served.has(r)), 'documented routes the app does not serve').toEqual([]);
    for (const route of [
      'GET /api/v1/alarms',
      'POST /api/v1/alarms/{id}/ack',
      'POST /api/v1/alarms/{id}/clear',
      'GET /api/v1/detections',
      'GET /api/v1/aggregates/hourly',
      'GET /api/v1/aggregates/cells',
      'GET /api/v1/devices',
      'GET /api/v1/devices/{id}',
      'GET /health',
      'GET /health/ready',
      'GET /metrics',
      'GET /admin/v1/devices',
      'GET /openapi.json',
      'GET /docs',
    ]) {
      expect(documented).toContain(route);
    }
  });

  it('says which token each operation needs: bearer with a scope on /api/v1, none on the probes and the docs', () => {
    for (const { path, method, op } of operations()) {
      if (path.startsWith('/api/v1/') && !path.endsWith('/events')) {
        expect(op.security).toEqual([{ bearerAuth: [] }]);
        expect(op['x-required-scope']).toBe(method === 'get' ? 'read' : 'ack');
        expect(op.responses['401']).toBeDefined();
        expect(op.responses['403']).toBeDefined();
      }
    }
    for (const path of ['/health', '/health/ready', '/openapi.json', '/docs']) expect(doc.paths[path]!.get!.security).toEqual([]);
    expect(doc.paths['/admin/v1/tokens']!.post!.security).toEqual([{ adminToken: [] }]);
  });

  it('derives the parameters from the routes’ zod schemas', () => {
    const list = doc.paths['/api/v1/alarms']!.get!;
    expect(list.parameters!.map((p) => p.name)).toEqual(Object.keys(AlarmsQuerySchema.shape));
    expect(list.parameters!.find((p) => p.name === 'limit')).toMatchObject({ in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } });
    expect(list.parameters!.find((p) => p.name === 'status')).toMatchObject({ style: 'form', explode: false, schema: { type: 'array', items: { enum: ['active_unack', 'active_ack', 'cleared'] } } });
    expect(doc.paths['/api/v1/alarms/{id}/ack']!.post!.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(doc.paths['/api/v1/detections']!.get!.parameters!.map((p) => p.name)).toEqual(['from', 'to', 'class', 'deviceId', 'bbox', 'minConfidence', 'limit', 'cursor', 'format']);
    expect(doc.paths['/api/v1/detections']!.get!.responses['200']!.content).toHaveProperty('application/geo+json');
    expect(doc.paths['/admin/v1/tokens']!.post!.requestBody!.content['application/json']!.schema).toMatchObject({ properties: { scope: { enum: ['read', 'ack', 'admin'] } } });
  });

  it('every $ref points at a component, and the components carry the error envelope', () => {
    const refs = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' ? refs.add(x as string) : walk(x);
    };
    walk(doc);
    expect(refs.size).toBeGreaterThan(5);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas).toHaveProperty(ref.split('/').pop()!);
    }
    expect(doc.components.schemas.ErrorEnvelope).toMatchObject({ properties: { error: { required: ['code', 'message', 'requestId'] } } });
    expect(doc.components.schemas.Alarm).toMatchObject({ properties: { ackedBy: { type: ['string', 'null'] }, createdAt: { type: 'string', format: 'date-time' } } });
  });

  it('GET /docs: one self-contained HTML page naming every route', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('text/html');
    expect(res.headers.get('Content-Security-Policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/);
    for (const { path, method, op } of operations()) {
      expect(html).toContain(`<code>${path}</code>`);
      expect(html).toContain(`id="${op.operationId}"`);
      expect(html).toContain(`>${method.toUpperCase()}</span>`);
    }
    expect(html).toContain('Authorization: Bearer $TOKEN');
    // No scripts, stylesheets, fonts or images from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html).not.toMatch(/href="(https?:)?\/\//);
  });

  it('stays behind the address allowlist like everything but the probes', async () => {
    const guarded = await openTestApp(pglite, {
      access: { allowedIps: ['192.0.2.0/24'], peerAddress: socketPeerAddress((c: Context) => c.req.header('x-test-peer')) },
    });
    try {
      for (const path of PUBLIC_DOC_PATHS) {
        expect((await guarded.app.request(path, { headers: { 'x-test-peer': '192.0.2.7' } })).status).toBe(200);
        expect((await guarded.app.request(path, { headers: { 'x-test-peer': '198.51.100.7' } })).status).toBe(403);
      }
    } finally {
      await guarded.close();
    }
  });

  it('API_OPERATIONS and the served document agree', () => {
    expect(operations()).toHaveLength(API_OPERATIONS.length);
  });
});
