import { readFileSync } from 'node:fs';
import type { Context } from 'hono';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedMigrations } from '../../db/migrations.js';
import { testDatabases, testLogger, type TestHubDatabase } from '../../db/testing/databases.js';
import { DiagnosticsService, type BrokerDiagnostics, type Diagnostics } from '../../services/diagnostics.js';
import { createServices, type Services } from '../../services/index.js';
import { createApp } from '../app.js';
import { socketPeerAddress } from '../middleware/ip-allowlist/index.js';
import { bearer, TEST_ADMIN_TOKEN } from '../testing/app.js';
import { envelope } from '../testing/harness.js';

const pglite = testDatabases().find((d) => d.name === 'pglite')!;
const PEER = 'x-test-peer';
const hubVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('GET /health/diagnostics', () => {
  let database: TestHubDatabase;
  let services: Services;
  let app: ReturnType<typeof createApp>;
  let broker: BrokerDiagnostics | null = { listening: true, clients: 2, ingestInFlight: 1 };
  const tokens: Record<string, string> = {};
  const startedAt = new Date(Date.now() - 90_000);

  beforeAll(async () => {
    database = await pglite.open();
    services = createServices({ database, logger: testLogger() });
    for (const scope of ['read', 'ack', 'admin'] as const) tokens[scope] = (await services.tokens.create({ name: `t-${scope}`, scope })).token;
    const diagnostics = new DiagnosticsService({ database, broker: () => broker, startedAt });
    app = createApp({
      services,
      readiness: () => ({ db: true, broker: true }),
      registry: new Registry(),
      adminToken: TEST_ADMIN_TOKEN,
      logger: testLogger(),
      access: { allowedIps: ['192.0.2.0/24'], peerAddress: socketPeerAddress((c: Context) => c.req.header(PEER)) },
      diagnostics: () => diagnostics.report(),
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  const get = (headers: Record<string, string> = {}, peer = '192.0.2.10') => app.request('/health/diagnostics', { headers: { [PEER]: peer, ...headers } });

  it('needs an API token with scope admin (401 without, 403 with read or ack), and an allowed address', async () => {
    const none = await get();
    expect(none.status).toBe(401);
    expect(none.headers.get('WWW-Authenticate')).toMatch(/^Bearer /);
    for (const scope of ['read', 'ack']) {
      const res = await get(bearer(tokens[scope]!));
      expect(res.status).toBe(403);
      expect(await envelope(res)).toMatchObject({ code: 'insufficient_scope', message: expect.stringContaining('needs admin') });
    }
    const outside = await get(bearer(tokens.admin!), '198.51.100.7');
    expect(outside.status).toBe(403);
    expect((await envelope(outside)).code).toBe('forbidden_address');
  });

  it('reports database reachability and latency, migrations, pool, broker, versions and uptime', async () => {
    const res = await get(bearer(tokens.admin!));
    expect(res.status).toBe(200);
    expect(res.headers.get('Cache-Control')).toBe('no-store');
    const body = (await res.json()) as Diagnostics;
    const shipped = shippedMigrations();
    expect(body).toEqual({
      status: 'ok',
      problems: [],
      startedAt: startedAt.toISOString(),
      uptimeS: expect.any(Number),
      versions: { hub: hubVersion, node: process.version, protocol: 1, database: expect.stringMatching(/^\d+(\.\d+)?/) },
      database: { kind: 'pglite', reachable: true, latencyMs: expect.any(Number), error: null, pool: null },
      migrations: { applied: shipped.length, expected: shipped.length, pending: [], latest: shipped.at(-1)!.tag, error: null },
      broker: { listening: true, clients: 2, ingestInFlight: 1 },
    });
    expect(body.uptimeS).toBeGreaterThanOrEqual(90);
    expect(body.database.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('says degraded, naming the broker, while the broker does not listen', async () => {
    broker = null;
    const body = (await (await get(bearer(tokens.admin!))).json()) as Diagnostics;
    expect(body.status).toBe('degraded');
    expect(body.broker).toBeNull();
    expect(body.problems).toEqual([expect.stringMatching(/^MQTT broker not listening/)]);
    broker = { listening: true, clients: 0, ingestInFlight: 0 };
  });
});

describe('DiagnosticsService', () => {
  const broker = () => ({ listening: true, clients: 0, ingestInFlight: 0 });

  it('names pending migrations and how to apply them', async () => {
    const database = await pglite.open({ migrate: false });
    try {
      const report = await new DiagnosticsService({ database, broker, startedAt: new Date() }).report();
      const tags = shippedMigrations().map((m) => m.tag);
      expect(report.migrations).toEqual({ applied: 0, expected: tags.length, pending: tags, latest: null, error: null });
      expect(report.status).toBe('degraded');
      expect(report.problems).toEqual([`migrations not applied: ${tags.join(', ')} — run roadwatch-hub migrate (or restart serve, which applies them)`]);
    } finally {
      await database.close();
    }
  });

  it('reports an unreachable database (and a ping that hangs) without throwing', async () => {
    const down = {
      kind: 'postgres' as const,
      db: {} as never,
      ping: () => Promise.reject(new Error('cannot reach Postgres at postgres://hub@db:5432/roadwatch: connect ECONNREFUSED')),
      pool: () => ({ max: 10, total: 0, idle: 0, waiting: 3 }),
    };
    const report = await new DiagnosticsService({ database: down, broker, startedAt: new Date() }).report();
    expect(report.database).toEqual({ kind: 'postgres', reachable: false, latencyMs: null, error: expect.stringContaining('ECONNREFUSED'), pool: { max: 10, total: 0, idle: 0, waiting: 3 } });
    expect(report.migrations).toEqual({ error: 'database not reachable' });
    expect(report.versions.database).toBeNull();
    expect(report.problems).toEqual([expect.stringMatching(/^database not reachable: .* — check that Postgres runs and DATABASE_URL points at it$/)]);

    const hanging = { ...down, ping: () => new Promise<void>(() => undefined) };
    const slow = await new DiagnosticsService({ database: hanging, broker, startedAt: new Date(), timeoutMs: 50 }).report();
    expect(slow.database.error).toBe('the database ping took longer than 50 ms');
  });
});
