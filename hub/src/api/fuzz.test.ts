import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckSchema } from '@roadwatch/shared';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failOnUnhandledErrors, fuzzParams, fuzzTimeout } from '../../../test/support/fuzz.js';
import { testDatabases } from '../db/testing/databases.js';
import { ALARM_TYPES } from '../services/alarm-types.js';
import { makeEvents, batchPayload } from '../services/testing/fixtures.js';
import { batchEnvelope, batchPlan, buildPayload, idTable, MUTATED_PLAN, NASTY_VALUE, TEXT_MUTATION, VALID_PLAN, type PayloadPlan } from '../services/testing/fuzz-payloads.js';
import { API_OPERATIONS } from './openapi/operations.js';
import type { ApiOperation } from './openapi/operation.js';
import { openTestApp, TEST_ADMIN_TOKEN, type TestApp } from './testing/app.js';

/**
 * Fuzzing the HTTP API through the real Hono app (`app.request()`, docs/TESTING.md "Fuzzing"): every
 * operation of the OpenAPI document (API_OPERATIONS, so a new route is fuzzed as soon as it is
 * documented), with random query strings (the route's own parameters and unknown ones, valid values,
 * edge numbers such as 1e12 and -1, empty values, repeats, broken percent-encoding), random path
 * parameters and methods, and mutated JSON bodies for the uplink, the alarm transitions and the
 * admin routes — always with a token that may call the route, sometimes with a bad one.
 *
 * Properties: no request throws; no answer is a 5xx; every 4xx is the one error envelope
 * {"error":{"code","message","requestId"}} with the request id of the X-Request-Id header; every
 * 2xx JSON answer parses.
 */

failOnUnhandledErrors();

const testDb = testDatabases().at(-1)!;
const UPLINK_DEVICE = 'veh-fuzz-uplink';
const MAX_BODY = 64 * 1024;

let t: TestApp;
let uplinkSecret: string;
let webDir: string | undefined;

beforeAll(async () => {
  // A dashboard build of its own, so that the answers do not depend on whether `npm run build` has run
  // (without one, GET / is a deliberate 503 page saying to build it).
  const web = (webDir = mkdtempSync(join(tmpdir(), 'roadwatch-fuzz-web-')));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>roadwatch</title>');
  t = await openTestApp(testDb, { access: { rateLimit: { perMinute: 0 } }, uplink: { maxBodyBytes: MAX_BODY }, web: { dir: web } });
  uplinkSecret = (await t.services.devices.add(UPLINK_DEVICE)).secret;
  // Something to find: detections, rollups, a device with a status, open alarms to ack and clear.
  await t.services.ingest.ingest(UPLINK_DEVICE, batchPayload(UPLINK_DEVICE, makeEvents(20)), 'mqtt');
  await t.services.status.record(UPLINK_DEVICE, JSON.stringify({ v: 1, state: 'online', queueDepth: 3, sensors: { camera: 'fault' }, faults: ['camera: gone'] }));
  for (let i = 0; i < 30; i++) {
    await t.services.alarms.raise({ type: ALARM_TYPES[i % ALARM_TYPES.length]!, source: `fuzz-${i}`, severity: 'warning', message: `fuzz alarm ${i}`, deviceId: i % 2 ? UPLINK_DEVICE : null });
  }
});
afterAll(async () => {
  await t?.services.alarmRules.idle();
  await t?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

/** The Authorization header an operation needs (a valid one). */
function authFor(op: ApiOperation): string | undefined {
  switch (op.access) {
    case 'read':
    case 'ack':
    case 'admin':
      return `Bearer ${t.tokens[op.access]}`;
    case 'admin-token':
      return `Bearer ${TEST_ADMIN_TOKEN}`;
    case 'device':
      return basic(UPLINK_DEVICE, uplinkSecret);
    default:
      return undefined;
  }
}

/** Mostly the right credentials; sometimes none, another scope's, or garbage. */
const AUTH = fc.oneof(
  { weight: 12, arbitrary: fc.constant<'valid'>('valid') },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Basic', 'Basic =', 'Basic ::::', 'Bearer rwt_', 'bearer x', 'Basic ' + 'A'.repeat(5000), 'Basic w4k=', 'Basic OnNlY3JldA==', 'Digest x'),
      fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
      fc.string({ maxLength: 40 }).map((s) => basic(s, s)),
      fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
    ),
  },
);

/** Values a query parameter may get: the documented example, edge numbers, odd text. */
const QUERY_VALUE = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '-1',
    '1e12',
    '1e308',
    '-0',
    '0.5',
    '2.5',
    '100',
    '1000',
    '1001',
    '100000',
    '100001',
    '9007199254740993',
    '99999999999999999999',
    'NaN',
    'Infinity',
    'null',
    'undefined',
    'true',
    'false',
    'yes',
    'json',
    'geojson',
    'D40',
    'D40,D20',
    ',',
    ',,,',
    'pothole,',
    'veh-1',
    UPLINK_DEVICE,
    '../etc/passwd',
    '2026-11-22',
    '2026-02-30',
    '2026-11-22T08:00:00Z',
    '2026-11-22T08:00:00 01:00',
    '2026-11-22T08:00:00+99:99',
    '0000-01-01T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    '9999-12-31T23:59:59Z',
    '4.85,52.35,4.95,52.40',
    '-180,-90,180,90',
    '181,0,0,0',
    '1,1,0,0',
    '1,2,3',
    '1e1,2,3,4',
    'active_unack',
    'active_ack,cleared',
    'critical',
    'warning,info',
    'severe_damage',
    'hotspot,device_offline',
    'online',
    'offline,unknown',
    'x'.repeat(1025),
    'x'.repeat(2049),
    '\u0000',
    '\ud800',
    '🛣️',
    "' or 1=1 --",
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
);

const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return escape(s); // a lone surrogate: encodeURIComponent refuses it; send the legacy form
  }
};

/** One query parameter as it appears on the wire: encoded, left raw, or with a broken escape. */
const QUERY_PAIR = (keys: readonly string[]) =>
  fc
    .tuple(
      fc.oneof(
        { weight: keys.length ? 8 : 0, arbitrary: keys.length ? fc.constantFrom(...keys) : fc.constant('') },
        { weight: 2, arbitrary: fc.string({ maxLength: 10 }) },
        { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'limit[]', 'LIMIT', ' limit', '') },
      ),
      QUERY_VALUE,
      fc.constantFrom('encoded', 'encoded', 'encoded', 'raw', 'broken', 'no-value'),
    )
    .map(([key, value, form]) => {
      if (form === 'no-value') return enc(key);
      if (form === 'raw') return `${key.replace(/[&#?]/g, '')}=${value.replace(/[&#]/g, '')}`;
      if (form === 'broken') return `${enc(key)}=${enc(value)}${['%', '%E0%A4%A', '%zz', '%C0%AF', '%ED%A0%80', '%00', '%2'][value.length % 7]}`;
      return `${enc(key)}=${enc(value)}`;
    });

const queryKeys = (op: ApiOperation) => Object.keys(op.query?.shape ?? {});

const QUERY_STRING = (op: ApiOperation) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 8, arbitrary: fc.array(QUERY_PAIR(queryKeys(op)), { minLength: 1, maxLength: 6 }).map((pairs) => `?${pairs.join('&')}`) });

/** Path parameters: a real alarm id or device id, or anything. */
const PATH_VALUE = fc.oneof(
  fc.constantFrom('1', '2', '5', '30', '0', '-1', '1e3', '9007199254740993', '99999999999999999', UPLINK_DEVICE, 'veh-1', 'test-read', '%', '%zz', '%2F', '..', '.', 'x'.repeat(300)),
  fc.integer({ min: 1, max: 40 }).map(String),
  fc.string({ maxLength: 20 }).map(enc),
  fc.string({ unit: 'binary', maxLength: 10 }).map(enc),
);

const pathOf = (op: ApiOperation, values: string[]) => {
  let i = 0;
  return op.path.replace(/\{[^}]+\}/g, () => values[i++ % values.length] ?? 'x');
};

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

async function send(req: Sent): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await t.app.request(req.url, { method: req.method, headers: req.headers, ...(req.body === undefined ? {} : { body: req.body }) });
  } catch (error) {
    throw new Error(`${req.method} ${req.url} threw: ${(error as Error).stack ?? String(error)}`);
  }
  const text = await res.text();
  const what = `${req.method} ${req.url} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  const requestId = res.headers.get('X-Request-Id');
  expect(requestId, what).toBeTruthy();
  if (req.method === 'HEAD') return { status: res.status, text }; // no body
  if (res.status >= 400) {
    expect(res.headers.get('Content-Type') ?? '', what).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error?: Record<string, unknown> } & Record<string, unknown>;
    expect(Object.keys(body.error ?? {}).sort(), what).toEqual(['code', 'message', 'requestId']);
    expect(typeof body.error!.code === 'string' && typeof body.error!.message === 'string', what).toBe(true);
    expect(body.error!.requestId, what).toBe(requestId);
    // Besides `error`: the uplink's ack of a quarantined batch; /health/ready's checks.
    for (const key of Object.keys(body)) expect(['error', 'ack', 'checks'], what).toContain(key);
  } else if (/json/.test(res.headers.get('Content-Type') ?? '')) {
    expect(() => JSON.parse(text), what).not.toThrow();
  }
  return { status: res.status, text };
}

const headersFor = (op: ApiOperation, auth: string, extra: Record<string, string> = {}): Record<string, string> => {
  const value = auth === 'valid' ? authFor(op) : auth;
  return { ...(value === undefined ? {} : { Authorization: value }), ...extra };
};

const GET_OPS = API_OPERATIONS.filter((op) => op.method === 'get');
const op = (operationId: string) => API_OPERATIONS.find((o) => o.operationId === operationId)!;

describe('HTTP API fuzzing (app.request)', () => {
  it('covers every documented operation', () => {
    const fuzzed = new Set([...GET_OPS.map((o) => o.operationId), 'uplinkEvents', 'ackAlarm', 'clearAlarm', 'adminAddDevice', 'adminCreateToken', 'adminRevokeToken']);
    expect(API_OPERATIONS.map((o) => o.operationId).filter((id) => !fuzzed.has(id))).toEqual([]);
  });

  it(
    'GET routes with random query strings and path parameters: never a 5xx, every error the envelope',
    async () => {
      const CASE = fc.constantFrom(...GET_OPS.map((o) => o.operationId)).chain((id) => fc.tuple(fc.constant(id), QUERY_STRING(op(id)), fc.array(PATH_VALUE, { minLength: 1, maxLength: 2 }), AUTH));
      await fc.assert(
        fc.asyncProperty(CASE, async ([id, query, path, auth]) => {
          const o = op(id);
          await send({ method: 'GET', url: `${pathOf(o, path)}${query}`, headers: headersFor(o, auth) });
        }),
        fuzzParams(3000),
      );
    },
    fuzzTimeout(45_000),
  );

  it(
    'POST /api/v1/devices/{id}/events with mutated batches: never a 5xx; valid batches acked',
    async () => {
      const maybeMutated = fc.oneof({ weight: 1, arbitrary: fc.constant(VALID_PLAN) }, { weight: 3, arbitrary: MUTATED_PLAN });
      const CONTENT_TYPE = fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/octet-stream', '', 'application/json; charset=latin1', 'multipart/form-data; boundary=x');
      const CASE = fc.tuple(batchPlan(8, maybeMutated), CONTENT_TYPE, AUTH, fc.oneof({ weight: 9, arbitrary: fc.constant(UPLINK_DEVICE) }, { weight: 1, arbitrary: PATH_VALUE }), fc.constantFrom('', '?x=1', '?limit=1e12'));
      const uplink = op('uplinkEvents');
      await fc.assert(
        fc.asyncProperty(CASE, async ([batch, contentType, auth, deviceId, query]) => {
          const envelope = batchEnvelope(UPLINK_DEVICE, batch, idTable(8));
          const body = buildPayload(envelope, batch.plan);
          const res = await send({ method: 'POST', url: `/api/v1/devices/${deviceId}/events${query}`, headers: headersFor(uplink, auth, contentType ? { 'Content-Type': contentType } : {}), body });
          if (batch.plan === VALID_PLAN && auth === 'valid' && deviceId === UPLINK_DEVICE) {
            // A valid batch is acked whatever else is odd about the request; each event stored or a duplicate of one in this batch.
            expect(res.status, res.text).toBe(200);
            const ack = AckSchema.parse(JSON.parse(res.text));
            expect(ack).toMatchObject({ batchId: envelope.batchId, rejected: [] });
            expect(ack.stored.length + ack.duplicates).toBe(envelope.events.length);
          }
        }),
        fuzzParams(1000),
      );
    },
    fuzzTimeout(45_000),
  );

  it(
    'alarm ack/clear, admin devices and tokens with random ids and mutated bodies: never a 5xx, every error the envelope',
    async () => {
      const bodyOf = (value: unknown, plan: PayloadPlan) => buildPayload(value, plan);
      const PLAN = fc.oneof({ weight: 1, arbitrary: fc.constant(VALID_PLAN) }, { weight: 3, arbitrary: MUTATED_PLAN });
      const NO_BODY = fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', '{}', 'null', '{"by":"x"}'), fc.string({ maxLength: 30 }), fc.array(TEXT_MUTATION, { maxLength: 1 }).map((text) => buildPayload({ a: 1 }, { json: [], text }))) },
      );
      const CASE = fc.oneof(
        fc.tuple(fc.constantFrom('ackAlarm', 'clearAlarm'), PATH_VALUE, NO_BODY, AUTH).map(([o, id, body, auth]) => ({ o, url: pathOf(op(o), [id]), body, auth })),
        fc
          .tuple(fc.record({ deviceId: fc.oneof(fc.constantFrom('veh-fuzz-new', 'veh-fuzz-2'), fc.string({ maxLength: 70 })), rotate: fc.boolean() }, { requiredKeys: ['deviceId'] }), PLAN, AUTH)
          .map(([value, plan, auth]) => ({ o: 'adminAddDevice', url: '/admin/v1/devices', body: bodyOf(value, plan) as string | undefined, auth })),
        fc
          .tuple(fc.record({ name: fc.oneof(fc.constantFrom('fuzz', 'fuzz-dashboard', ''), fc.string({ maxLength: 80 }), NASTY_VALUE), scope: fc.constantFrom('read', 'ack', 'admin', 'root', '') }), PLAN, AUTH)
          .map(([value, plan, auth]) => ({ o: 'adminCreateToken', url: '/admin/v1/tokens', body: bodyOf(value, plan) as string | undefined, auth })),
        // Never one of the tokens the other cases use (test-read, test-ack, test-admin).
        fc.tuple(PATH_VALUE.filter((v) => !v.startsWith('test-')), AUTH).map(([name, auth]) => ({ o: 'adminRevokeToken', url: pathOf(op('adminRevokeToken'), [name]), body: undefined, auth })),
      );
      await fc.assert(
        fc.asyncProperty(CASE, fc.constantFrom('application/json', 'text/plain', ''), async ({ o: id, url, body, auth }, contentType) => {
          const o = op(id);
          await send({ method: o.method.toUpperCase(), url, headers: headersFor(o, auth, contentType ? { 'Content-Type': contentType } : {}), ...(body === undefined ? {} : { body }) });
        }),
        fuzzParams(1500),
      );
    },
    fuzzTimeout(45_000),
  );

  it(
    'any method on any path, with any query: never a 5xx, every error the envelope',
    async () => {
      const PATH = fc.oneof(
        fc.constantFrom(...API_OPERATIONS.map((o) => o.operationId)).chain((id) => fc.array(PATH_VALUE, { minLength: 1, maxLength: 2 }).map((v) => pathOf(op(id), v))),
        fc.array(fc.oneof(fc.constantFrom('api', 'v1', 'admin', 'alarms', 'devices', 'events', 'detections', 'aggregates', 'health', '%', '..', ''), PATH_VALUE), { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
      );
      const CASE = fc.tuple(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'), PATH, QUERY_STRING(GET_OPS[0]!), fc.constantFrom(...API_OPERATIONS.map((o) => o.operationId)), AUTH);
      await fc.assert(
        fc.asyncProperty(CASE, async ([method, path, query, authOf, auth]) => {
          await send({ method, url: `${path}${query}`, headers: headersFor(op(authOf), auth) });
        }),
        fuzzParams(2000),
      );
    },
    fuzzTimeout(30_000),
  );
});
